// The web console: plain JS, no build step. Talks to /console/api/*.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const state = { people: [], person: null, chat: null, lastPush: 0, timer: null, personAsked: 0 };

  async function api(path, options) {
    const response = await fetch(path, options);
    if (!response.ok) throw new Error((await response.text()) || response.statusText);
    return response.json();
  }

  function bubble(kind, meta, html, text) {
    const div = document.createElement("div");
    div.className = "msg " + kind;
    const head = document.createElement("div");
    head.className = "meta";
    head.textContent = meta;
    div.appendChild(head);
    const body = document.createElement("div");
    body.className = "body";
    if (html) body.innerHTML = html; // server-rendered and escaped (bot/render)
    else { body.style.whiteSpace = "pre-wrap"; body.textContent = text; }
    div.appendChild(body);
    $("log").appendChild(div);
    $("log").scrollTop = $("log").scrollHeight;
    return div;
  }

  async function loadPeople() {
    state.people = await api("/console/api/people");
    const select = $("person");
    select.innerHTML = "";
    for (const [kind, label] of [["staff", "员工"], ["client", "客户联系人"]]) {
      const group = document.createElement("optgroup");
      group.label = label;
      state.people.filter((p) => p.kind === kind).forEach((p) => {
        const option = document.createElement("option");
        option.value = p.kind + "|" + p.user_id;
        option.textContent = `${p.name}（${p.detail}）`;
        group.appendChild(option);
      });
      if (group.children.length) select.appendChild(group);
    }
    await choosePerson();
  }

  async function choosePerson() {
    const [kind, user] = $("person").value.split("|");
    state.person = state.people.find((p) => p.kind === kind && p.user_id === user) || null;
    if (!state.person) return;
    // a quick second choice must not be overwritten by the first choice's late chat list
    const asked = ++state.personAsked;
    const chats = await api(`/console/api/chats?user=${encodeURIComponent(user)}&kind=${kind}`);
    if (asked !== state.personAsked) return;
    const select = $("chat");
    select.innerHTML = "";
    chats.forEach((c) => {
      const option = document.createElement("option");
      option.value = c.chat_id;
      option.textContent = c.name + (c.kind === "project_group" ? "（项目群）" : "");
      select.appendChild(option);
    });
    chooseChat();
  }

  function chooseChat() {
    state.chat = $("chat").value;
    state.lastPush = 0;
    $("log").innerHTML = "";
    $("title").textContent = $("chat").selectedOptions[0] ? $("chat").selectedOptions[0].textContent : "";
    $("who").textContent = state.person ? `以 ${state.person.name}（${state.person.user_id}）的身份发言` : "";
    pollPushes();
  }

  async function pollPushes() {
    if (!state.chat) return;
    const chat = state.chat;
    try {
      const rows = await api(`/console/api/pushes?chat=${encodeURIComponent(chat)}&user=${encodeURIComponent(state.person ? state.person.user_id : "")}&after=${state.lastPush}`);
      if (chat !== state.chat) return; // the chat changed while this poll was out
      rows.forEach((row) => {
        state.lastPush = Math.max(state.lastPush, row.id);
        if (row.continuation) return;
        bubble("push", `推送 · ${row.channel} · ${row.status}`, row.html, row.text);
      });
    } catch (e) { /* the next poll tries again */ }
  }

  async function send(text) {
    if (!text.trim() || !state.person || !state.chat) return;
    bubble("me", state.person.name, null, text);
    $("send").disabled = true;
    try {
      const reply = await api("/console/api/send", {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ user: state.person.user_id, kind: state.person.kind, chat: state.chat, text }),
      });
      bubble("bot", "客户助手" + (reply.intent ? ` · ${reply.intent}` : ""), reply.html, reply.plain);
    } catch (e) {
      bubble("bot", "出错了", null, String(e.message || e));
    } finally {
      $("send").disabled = false;
    }
  }

  $("person").addEventListener("change", choosePerson);
  $("chat").addEventListener("change", chooseChat);
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value;
    $("text").value = "";
    send(text);
  });
  $("text").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); $("composer").requestSubmit(); }
  });
  document.querySelectorAll(".examples button").forEach((b) => b.addEventListener("click", () => send(b.dataset.text)));
  state.timer = setInterval(pollPushes, 2000);
  loadPeople().catch((e) => bubble("bot", "出错了", null, "无法载入演示用户：" + e.message));
})();
