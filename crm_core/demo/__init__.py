"""The demo agency for `crmbot demo`: a deterministic generator and its loader."""
