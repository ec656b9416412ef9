"""The churn features of a run that scores (almost) everyone come from one whole-table aggregate per
source (``FeatureStream``), those of a daily run from index probes per id block (``extract``): on the
benchmark's generated agency both give every customer exactly the same values and the same facts."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bench.jobs_data import generate
from crm_core.models import Customer
from crm_core.risk.features import FEATURES, FeatureStream, extract

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 12, 2)
BLOCK = 50


def test_whole_table_features_equal_the_per_block_ones(db):
    with db.engine.begin() as conn:
        generate(conn, DAY, scale=0.004)  # 400 customers, their projects, contracts, instalments, proposals, tickets …
    with db.unit_of_work() as writer, db.unit_of_work() as reader:
        customers = list(writer.execute(select(Customer.id, Customer.last_contact_at).order_by(Customer.id)))
        stream = FeatureStream(reader, DAY, TZ, batch=37)
        known = dict.fromkeys(FEATURES, 0)
        compared = 0
        for lo in range(0, customers[-1][0] + 1, BLOCK):
            hi = lo + BLOCK - 1
            if (lo // BLOCK) % 3 == 2:
                continue  # a block not due today: the stream passes over its rows
            block = [(cid, last) for cid, last in customers if lo <= cid <= hi and cid % 7]  # and not every customer
            by_range = extract(writer, block, DAY, TZ, (lo, hi), live=True)
            by_ids = extract(writer, block, DAY, TZ, [cid for cid, _ in block], live=True)
            whole = stream.extract(block, lo, hi)
            assert whole.keys() == by_range.keys() == by_ids.keys()
            for cid, f in by_range.items():
                assert (whole[cid].values, whole[cid].facts) == (f.values, f.facts) == \
                    (by_ids[cid].values, by_ids[cid].facts), cid
                known.update({k: known[k] + 1 for k, v in f.values.items() if v is not None})
                compared += 1
    assert compared > 150
    assert all(n > 0 for n in known.values()), known  # every feature was actually compared on some customer
