/* fanggang pages: a little vanilla JS, no build step. The form checks mirror scheduler/validation.py;
   the server checks every submission again with it. */
"use strict";
const LANG = document.body.dataset.lang || "zh";
const tr = (zh, en) => (LANG === "en" ? en : zh);

async function send(url, options) {
  const response = await fetch(url, Object.assign({ credentials: "same-origin" }, options));
  let data = {};
  try { data = await response.json(); } catch (e) { data = {}; }
  return { ok: response.ok, status: response.status, data };
}
const postJSON = (url, body) =>
  send(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
const message = (d) => (LANG === "en" ? d.detail || d.message : d.detail_zh || d.message_zh || d.detail);
const problemText = (p) => (LANG === "en" ? p.message : p.message_zh);
// Where a problem is, as a clerk finds it: the row, whose it is, the column and what it held.
const problemPlace = (p) => [p.row ? tr(`第 ${p.row} 行`, `row ${p.row}`) : "", p.who || "",
  p.field ? (LANG === "en" ? p.field : p.field_zh || p.field) + (p.value ? `“${p.value}”` : "") : ""].filter(Boolean).join(" · ");

// ---- checks, the same rules as scheduler.validation -------------------------------------------------
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
function checkIdNumber(text) {
  const number = text.replace(/[\s\u00a0\u3000-]/g, "").toUpperCase();
  if (!/^[0-9]{17}[0-9X]$/.test(number)) {
    if (/^\d(\.\d*)?E\+?\d+$/i.test(number))
      return tr("身份证号码被 Excel 存成了数字，后几位已丢失；请把该列设置为文本格式后重新录入",
                "The ID number was stored as a number by Excel; format the column as text and enter it again");
    if (number.length !== 18)
      return tr(`身份证号码应为18位，实际为${number.length}位` + (number.length === 15 ? "（不接受15位旧号码）" : ""),
                `ID number has ${number.length} characters; expected 18`);
    return tr("身份证号码应为17位数字加1位数字或X", "ID number must be 17 digits followed by a digit or X");
  }
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(number[i]) * ID_WEIGHTS[i];
  if ("10X98765432"[sum % 11] !== number[17]) return tr("身份证号码校验位错误", "ID number fails its checksum");
  const y = Number(number.slice(6, 10)), m = Number(number.slice(10, 12)), d = Number(number.slice(12, 14));
  const born = new Date(Date.UTC(y, m - 1, d));
  const real = born.getUTCFullYear() === y && born.getUTCMonth() === m - 1 && born.getUTCDate() === d;
  if (!real || y < 1900 || born > new Date())
    return tr(`身份证号码中的出生日期 ${y}-${number.slice(10, 12)}-${number.slice(12, 14)} 不存在`,
              `ID number has an impossible birth date`);
  return "";
}
function normalisePhone(text) {
  let digits = text.replace(/[\s\u00a0\u3000\-\u2010-\u2014()（）]/g, "");
  if (digits.startsWith("+86")) digits = digits.slice(3);
  else if (digits.startsWith("0086")) digits = digits.slice(4);
  else if (digits.startsWith("86") && digits.length === 13) digits = digits.slice(2);
  return /^1[3-9]\d{9}$/.test(digits) ? digits : null;
}
function checkField(form, name) {
  const v = (form.elements[name].value || "").trim();
  if (["name", "id_number", "phone", "factory_id", "earliest_date", "report_date"].includes(name) && !v)
    return tr("必填", "required");
  if (name === "id_number") return checkIdNumber(v);
  if (name === "phone" && !normalisePhone(v))
    return tr("不是有效的大陆手机号（应为13–19开头的11位数字）", "not a mainland mobile number (11 digits, 13-19...)");
  if (name === "report_date") {
    const e = form.elements.earliest_date.value;
    if (e && v < e) return tr("报到日期早于最早出发日期", "report date is before the earliest date");
  }
  return "";
}

// ---- township ------------------------------------------------------------------------------------
function townshipPage() {
  const form = document.getElementById("register-form");
  const fields = ["name", "id_number", "phone", "factory_id", "earliest_date", "report_date"];
  const touched = new Set();
  const show = (name) => {
    const problem = checkField(form, name);
    const input = form.elements[name];
    const hint = form.querySelector(`.hint[data-for="${name}"]`);
    if (touched.has(name)) {
      input.classList.toggle("bad", !!problem);
      input.classList.toggle("good", !problem);
      hint.textContent = problem;
    }
    return problem;
  };
  for (const name of fields) {
    form.elements[name].addEventListener("input", () => { touched.add(name); show(name); if (name === "earliest_date") show("report_date"); });
    form.elements[name].addEventListener("blur", () => { touched.add(name); show(name); });
  }
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    fields.forEach((n) => touched.add(n));
    const bad = fields.filter((n) => show(n));
    const result = document.getElementById("register-result");
    if (bad.length) { result.className = "result bad"; result.textContent = tr("请先改正标红的项目。", "Please correct the fields in red."); return; }
    const body = Object.fromEntries(fields.map((n) => [n, form.elements[n].value.trim()]));
    body.group_id = form.elements.group_id.value.trim();
    body.registered_poor = form.elements.registered_poor.checked;
    const r = await postJSON("/app/api/travellers", body);
    if (r.ok) {
      result.className = "result ok";
      result.textContent = tr(`已登记：${r.data.name}（编号 ${r.data.ref}）`, `Registered: ${r.data.name} (ref ${r.data.ref})`);
      const row = document.querySelector("#travellers tbody").insertRow(0);
      [r.data.ref, r.data.name, form.elements.factory_id.selectedOptions[0].text, "", tr("已登记，待安排", "registered"), "", ""]
        .forEach((text) => { row.insertCell().textContent = text; });
      form.reset(); touched.clear();
      form.querySelectorAll(".good,.bad").forEach((e) => e.classList.remove("good", "bad"));
    } else {
      result.className = "result bad";
      const problems = (r.data.problems || []).map((p) => problemText(p));
      result.textContent = [message(r.data), ...problems].join("；");
      for (const p of r.data.problems || []) {
        if (p.field && form.elements[p.field]) {
          form.elements[p.field].classList.add("bad");
          const hint = form.querySelector(`.hint[data-for="${p.field}"]`);
          if (hint) hint.textContent = problemText(p);
        }
      }
    }
  });

  const upload = document.getElementById("upload-form");
  const preview = document.getElementById("preview");
  const confirm = document.getElementById("confirm-import");
  const fileData = () => { const d = new FormData(); d.append("file", document.getElementById("upload-file").files[0]); return d; };
  upload.addEventListener("submit", async (event) => {
    event.preventDefault();
    confirm.hidden = true;
    preview.textContent = tr("正在检查……", "Checking…");
    const r = await send("/app/api/travellers/preview", { method: "POST", body: fileData() });
    preview.textContent = "";
    if (!r.ok) { preview.innerHTML = `<p class="error"></p>`; preview.firstChild.textContent = message(r.data); return; }
    const d = r.data;
    if (!d.ok) {
      const head = document.createElement("p");
      head.className = "error";
      head.textContent = tr(`发现 ${d.problem_count} 处问题（${d.bad_rows} 行），未导入任何数据。请改正后重新上传${d.problem_count > d.problems.length ? `（列出前 ${d.problems.length} 处）` : ""}：`,
                            `${d.problem_count} problem(s) in ${d.bad_rows} row(s); nothing was imported. Fix them and upload again${d.problem_count > d.problems.length ? ` (the first ${d.problems.length} listed)` : ""}:`);
      const list = document.createElement("ol");
      list.id = "problems";
      for (const p of d.problems) {
        const li = document.createElement("li");
        li.textContent = problemPlace(p) + "：" + problemText(p);
        list.appendChild(li);
      }
      preview.append(head, list);
      return;
    }
    const ok = document.createElement("p");
    ok.className = "ok";
    ok.textContent = tr(`全部 ${d.rows} 行检查通过：将新增 ${d.imported} 人，已登记过 ${d.already_registered} 人（跳过）。`,
                        `All ${d.rows} rows are fine: ${d.imported} new, ${d.already_registered} already registered (skipped).`);
    preview.appendChild(ok);
    confirm.hidden = d.imported === 0;
  });
  confirm.addEventListener("click", async () => {
    confirm.disabled = true;
    const r = await send("/app/api/travellers/import", { method: "POST", body: fileData() });
    confirm.disabled = false;
    confirm.hidden = true;
    const p = document.createElement("p");
    p.id = "import-result";
    p.className = r.ok ? "ok" : "error";
    p.textContent = r.ok ? tr(`已导入 ${r.data.imported} 人。`, `Imported ${r.data.imported} people.`) : message(r.data);
    preview.appendChild(p);
    if (r.ok) setTimeout(() => location.reload(), 1200);
  });

  // After publish too: a corrected phone keeps the seat; a cancellation frees it (both notify the traveller).
  for (const button of document.querySelectorAll("button.fix-phone")) {
    button.addEventListener("click", async () => {
      const id = button.closest("tr").dataset.id;
      const phone = prompt(tr("新的手机号码：", "New mobile number:"), button.dataset.phone || "");
      if (!phone) return;
      const r = await send(`/app/api/travellers/${id}`, { method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ phone }) });
      if (r.ok) location.reload(); else alert(message(r.data));
    });
  }
  for (const button of document.querySelectorAll("button.cancel")) {
    button.addEventListener("click", async () => {
      const id = button.closest("tr").dataset.id;
      const reason = prompt(tr(`取消 ${button.dataset.name} 的登记，原因：`, `Cancel ${button.dataset.name}; reason:`));
      if (!reason) return;
      const r = await postJSON(`/app/api/travellers/${id}/cancel`, { reason });
      if (r.ok) location.reload(); else alert(message(r.data));
    });
  }
  const filter = document.getElementById("filter");
  filter.addEventListener("input", () => {
    const q = filter.value.trim().toLowerCase();
    for (const row of document.querySelectorAll("#travellers tbody tr"))
      row.hidden = q && !row.textContent.toLowerCase().includes(q);
  });
}

// ---- dispatcher ----------------------------------------------------------------------------------
const JOB_STATUS_ZH = { queued: "排队中", running: "规划中", done: "已完成", failed: "失败", published: "已发布" };
function dispatcherPage() {
  const start = document.getElementById("start-plan");
  const progress = document.getElementById("plan-progress");
  start.addEventListener("click", async () => {
    start.disabled = true;
    const timeLimit = Number(document.getElementById("time-limit").value) || 10;
    const r = await postJSON("/app/api/plans", { date: start.dataset.date, time_limit: timeLimit });
    if (!r.ok) { progress.textContent = message(r.data); start.disabled = false; return; }
    follow(r.data.id, start);
  });
  // Show a planning job's progress until it ends, then open it.
  const follow = (id, button) => {
    const poll = async () => {
      const s = await send(`/app/api/plans/${id}`);
      const job = s.data;
      progress.textContent = tr(`计划 ${id}：${JOB_STATUS_ZH[job.status] || job.status} ${Math.round((job.progress || 0) * 100)}% ${job.message_zh || ""}`,
                                `plan ${id}: ${job.status} ${Math.round((job.progress || 0) * 100)}% ${job.message || ""}`);
      if (job.status === "queued" || job.status === "running") { setTimeout(poll, 500); return; }
      if (job.status === "failed") { progress.textContent += " " + tr(job.error_zh || "", job.error || ""); button.disabled = false; return; }
      location.href = `/app/dispatcher?plan=${id}`;
    };
    poll();
  };
  const campaign = document.getElementById("campaign-form");
  campaign.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = document.getElementById("start-campaign");
    button.disabled = true;
    const timeLimit = Number(document.getElementById("campaign-time-limit").value) || 120;
    const body = { from: document.getElementById("campaign-from").value, to: document.getElementById("campaign-to").value,
                   time_limit: timeLimit };
    const r = await postJSON("/app/api/plans", body);
    if (!r.ok) { progress.textContent = message(r.data); button.disabled = false; return; }
    follow(r.data.id, button);
  });
  const printAll = document.getElementById("print-all");
  if (printAll) printAll.addEventListener("click", async () => {
    printAll.disabled = true;
    const out = document.getElementById("print-progress");
    const r = await postJSON(`/app/api/plans/${printAll.dataset.planId}/print`, {});
    if (!r.ok) { out.textContent = message(r.data); printAll.disabled = false; return; }
    const poll = async () => {
      const s = (await send(`/app/api/print/${r.data.id}`)).data;
      if (s.error) { out.textContent = tr(`生成失败：${s.error}`, `Failed: ${s.error}`); printAll.disabled = false; return; }
      if (!s.ready) { out.textContent = tr(`正在生成 ${s.done}/${s.total} 辆车……`, `Printing ${s.done}/${s.total} buses…`); setTimeout(poll, 500); return; }
      out.textContent = "";
      const a = document.createElement("a");
      a.id = "print-download"; a.href = s.download; a.target = "_blank";
      a.textContent = tr(`下载全部乘车名单（${s.total} 辆车，PDF）`, `Download all manifests (${s.total} buses, PDF)`);
      out.append(a);
      printAll.disabled = false;
    };
    poll();
  });
  const fallbackFilter = document.getElementById("fallback-filter");
  if (fallbackFilter) fallbackFilter.addEventListener("input", () => {
    const q = fallbackFilter.value.trim().toLowerCase();
    for (const row of document.querySelectorAll("#fallback tbody tr")) row.hidden = q && !row.textContent.toLowerCase().includes(q);
  });
  const publish = document.getElementById("publish");
  if (publish) publish.addEventListener("click", async () => {
    publish.disabled = true;
    const dates = publish.dataset.date ? { dates: [publish.dataset.date] } : {};
    const r = await postJSON(`/app/api/plans/${publish.dataset.planId}/publish`, dates);
    const out = document.getElementById("publish-result");
    if (r.ok) {
      out.className = "result ok";
      out.textContent = tr(`已发布：${r.data.buses} 辆车，${r.data.travellers_planned} 人已安排，${r.data.overdue} 人逾期。`,
                           `Published: ${r.data.buses} buses, ${r.data.travellers_planned} travellers planned, ${r.data.overdue} overdue.`);
      setTimeout(() => location.reload(), 800);
    } else { out.className = "result bad"; out.textContent = message(r.data); publish.disabled = false; }
  });
}

// ---- scanning ticket codes ---------------------------------------------------------------------------
// USB and Bluetooth scanners type the code and Enter into the focused box, which submits its form; where the
// browser offers BarcodeDetector, the camera reads QR codes too. Typing the code always works.
function scanInto(form, handle) {
  const input = form.elements.ticket_code;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const code = input.value.trim().toUpperCase();
    if (!code) return;
    input.value = "";
    await handle(code);
    input.focus();
  });
  const button = form.querySelector("#camera-button");
  const video = document.getElementById("camera");
  if (!button || !video || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  button.hidden = false;
  let last = "", lastAt = 0;
  button.addEventListener("click", async () => {
    const detector = new BarcodeDetector({ formats: ["qr_code"] });
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = stream; video.hidden = false; await video.play();
    const look = async () => {
      if (video.hidden) { stream.getTracks().forEach((t) => t.stop()); return; }
      for (const found of await detector.detect(video)) {
        const code = found.rawValue.trim().toUpperCase();
        // The same code stays in view for a while: read it once per three seconds.
        if (code && (code !== last || Date.now() - lastAt > 3000)) { last = code; lastAt = Date.now(); await handle(code); }
      }
      requestAnimationFrame(look);
    };
    look();
    button.onclick = () => { video.hidden = true; };
  });
}

// ---- township: departure day ---------------------------------------------------------------------------
function boardingPage() {
  const out = document.getElementById("scan-result");
  scanInto(document.getElementById("scan-form"), async (code) => {
    const r = await postJSON("/app/api/boarding", { ticket_code: code });
    out.className = r.ok ? "result ok" : "result bad";
    out.textContent = r.ok
      ? (r.data.changed ? tr(`已上车：${r.data.name}` + (r.data.seat ? `（${r.data.seat} 座）` : ""), `Boarded: ${r.data.name}`)
                        : tr(`${r.data.name} 此前已确认上车`, `${r.data.name} was already confirmed`))
      : `${code}：${message(r.data)}`;
    if (!r.ok) return;
    const row = document.querySelector(`tr[data-code="${code}"]`);
    if (row && r.data.changed) {
      const box = row.querySelector("input.boarded");
      box.checked = true; box.disabled = true;
      row.querySelector(".status").textContent = tr("已上车", "boarded");
      const count = row.closest(".bus").querySelector(".boarded-count");
      count.textContent = Number(count.textContent) + 1;
    }
  });
  for (const button of document.querySelectorAll(".confirm-boarding")) {
    button.addEventListener("click", async () => {
      const card = button.closest(".bus");
      const boarded = [...card.querySelectorAll("input.boarded:checked:not(:disabled)")].map((b) => Number(b.value));
      const noShows = [...card.querySelectorAll("input.no-show:checked")].map((b) => Number(b.value));
      const both = boarded.filter((id) => noShows.includes(id));
      const result = card.querySelector(".boarding-result");
      if (both.length) { result.className = "boarding-result result bad"; result.textContent = tr("同一人不能既上车又未到", "Someone is ticked as boarded and no-show"); return; }
      button.disabled = true;
      const r = await postJSON(`/app/api/buses/${button.dataset.busId}/boarding`, { boarded, no_shows: noShows });
      result.className = r.ok ? "boarding-result result ok" : "boarding-result result bad";
      result.textContent = r.ok ? tr(`上车 ${r.data.boarded} 人，未到 ${r.data.no_show} 人（座位已释放）`,
                                     `${r.data.boarded} boarded, ${r.data.no_show} no-show (seats freed)`) : message(r.data);
      if (r.ok) setTimeout(() => location.reload(), 1000); else button.disabled = false;
    });
  }
  for (const button of document.querySelectorAll("button.escort-link")) {
    button.addEventListener("click", async () => {
      const r = await postJSON(`/app/api/buses/${button.dataset.busId}/escort-link`, {});
      const out = button.closest(".bus").querySelector(".escort-link-result");
      out.textContent = "";
      if (!r.ok) { out.textContent = message(r.data); return; }
      const p = document.createElement("p");
      p.textContent = tr("把这个链接或二维码发给随车人员（只显示这一次，出发两天后失效）：", "Send this link or QR code to the escort (shown once; it ends two days after departure):");
      const a = document.createElement("a");
      a.href = r.data.link; a.textContent = r.data.link; a.className = "escort-url";
      const qr = document.createElement("div");
      qr.innerHTML = r.data.qr_svg;  // generated by the service (segno), no user text in it
      out.append(p, a, qr);
    });
  }
  for (const form of document.querySelectorAll(".escort-form")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const body = { escort_name: form.elements.escort_name.value.trim(), escort_phone: form.elements.escort_phone.value.trim() };
      const r = await send(`/app/api/buses/${form.dataset.busId}/escort`,
                           { method: "PUT", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const out = form.querySelector(".escort-result");
      out.className = r.ok ? "escort-result ok" : "escort-result bad";
      out.textContent = r.ok ? tr("已保存，将印在乘车凭证上", "Saved; printed on the slips") : message(r.data);
    });
  }
}

// ---- the bus on the road: the escort (or the clerk) ticks who boarded ------------------------------------
function driverPage() {
  const submit = document.getElementById("driver-boarding");
  if (!submit) return;
  submit.addEventListener("click", async () => {
    const boarded = [...document.querySelectorAll("input.boarded:checked:not(:disabled)")].map((b) => Number(b.value));
    const noShows = [...document.querySelectorAll("input.no-show:checked")].map((b) => Number(b.value));
    const out = document.getElementById("driver-result");
    if (boarded.some((id) => noShows.includes(id))) { out.className = "result bad"; out.textContent = tr("同一人不能既上车又未到", "Someone is ticked as boarded and no-show"); return; }
    submit.disabled = true;
    const r = await postJSON(`/app/api/escort/buses/${submit.dataset.busId}/boarding`, { boarded, no_shows: noShows });
    out.className = r.ok ? "result ok" : "result bad";
    out.textContent = r.ok ? tr(`上车 ${r.data.boarded} 人，未到 ${r.data.no_show} 人`, `${r.data.boarded} boarded, ${r.data.no_show} no-show`) : message(r.data);
    if (r.ok) setTimeout(() => location.reload(), 1000); else submit.disabled = false;
  });
}

// ---- factory -------------------------------------------------------------------------------------
function factoryPage() {
  const form = document.getElementById("ticket-form");
  const out = document.getElementById("ticket-result");
  scanInto(form, async (code) => {
    const r = await postJSON("/app/api/arrivals", { ticket_code: code });
    out.className = r.ok ? "result ok" : "result bad";
    out.textContent = r.ok
      ? (r.data.changed ? tr(`已确认到岗：${r.data.name}`, `Arrival confirmed: ${r.data.name}`)
                        : tr(`${r.data.name} 此前已确认到岗`, `${r.data.name} was already confirmed`))
      : `${code}：${message(r.data)}`;
  });
  // The reason drop-down shows only beside someone unticked: the exceptions.
  for (const box of document.querySelectorAll("input.came:not(:disabled)")) {
    const outcome = document.querySelector(`select.outcome[data-id="${box.value}"]`);
    if (outcome) box.addEventListener("change", () => { outcome.hidden = box.checked; });
  }
  const search = document.getElementById("gate-search");
  search.addEventListener("input", () => {
    const q = search.value.trim().toLowerCase();
    for (const card of document.querySelectorAll("details.bus")) {
      let shown = 0;
      for (const li of card.querySelectorAll("ul.people li")) {
        li.hidden = q && !li.textContent.toLowerCase().includes(q);
        shown += !li.hidden;
      }
      card.hidden = q && !shown;
      if (q && shown) card.open = true;
    }
  });
  const staffForm = document.getElementById("expected-form");
  staffForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = new FormData();
    body.append("file", document.getElementById("expected-file").files[0]);
    const r = await send("/app/api/expected", { method: "PUT", body });
    const out = document.getElementById("expected-result");
    out.className = r.ok ? "result ok" : "result bad";
    out.textContent = r.ok ? tr(`已上传名单：${r.data.expected} 人`, `List uploaded: ${r.data.expected} people`)
      : [message(r.data), ...(r.data.problems || []).slice(0, 20).map((p) => (p.row ? tr(`第 ${p.row} 行：`, `row ${p.row}: `) : "") + problemText(p))].join("；");
    if (r.ok) setTimeout(() => location.reload(), 1000);
  });
  for (const button of document.querySelectorAll(".confirm-bus")) {
    button.addEventListener("click", async () => {
      const card = button.closest(".bus");
      const exceptions = [];
      for (const box of card.querySelectorAll("input.came:not(:checked):not(:disabled)")) {
        const outcome = card.querySelector(`select.outcome[data-id="${box.value}"]`);
        exceptions.push({ traveller_id: Number(box.value), outcome: outcome ? outcome.value : "no_show" });
      }
      button.disabled = true;
      const r = await postJSON("/app/api/arrivals/bus", { bus_id: button.dataset.busId, exceptions });
      const result = card.querySelector(".bus-result");
      result.className = r.ok ? "bus-result result ok" : "bus-result result bad";
      result.textContent = r.ok
        ? tr(`到岗 ${r.data.arrived} 人，未到 ${r.data.no_show} 人，去了别处 ${r.data.went_elsewhere} 人`,
             `${r.data.arrived} arrived, ${r.data.no_show} no-show, ${r.data.went_elsewhere} went elsewhere`)
        : message(r.data);
      if (r.ok) setTimeout(() => location.reload(), 1000); else button.disabled = false;
    });
  }
}

// ---- township: receipts -------------------------------------------------------------------------------
function receiptsPage() {
  const form = document.getElementById("receipt-form");
  const boxes = () => [...form.querySelectorAll("input[name=traveller]:checked")];
  form.addEventListener("change", () => {
    document.getElementById("selected-count").textContent = boxes().length;
    document.getElementById("selected-cap").textContent = boxes().reduce((sum, b) => sum + Number(b.dataset.cap), 0).toFixed(2);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const out = document.getElementById("receipt-result");
    if (!boxes().length) { out.className = "result bad"; out.textContent = tr("请勾选票据所载的旅客", "Tick the travellers the receipt covers"); return; }
    const body = new FormData();
    body.append("number", form.elements.number.value.trim());
    body.append("amount", form.elements.amount.value.trim());
    body.append("traveller_ids", boxes().map((b) => b.value).join(","));
    body.append("file", document.getElementById("receipt-file").files[0]);
    const r = await send("/app/api/receipts", { method: "POST", body });
    out.className = r.ok ? "result ok" : "result bad";
    out.textContent = r.ok ? tr(`已提交票据 ${r.data.number}（${r.data.amount.toFixed(2)} 元），等待县里审核`,
                                `Receipt ${r.data.number} (${r.data.amount.toFixed(2)} CNY) submitted for approval`) : message(r.data);
    if (r.ok) setTimeout(() => location.reload(), 1000);
  });
}

// ---- dispatcher's desk ------------------------------------------------------------------------------------
function deskPage() {
  const say = (id, r, text) => { const out = document.getElementById(id); out.className = r.ok ? "result ok" : "result bad"; out.textContent = r.ok ? text(r.data) : message(r.data); };
  for (const button of document.querySelectorAll("button.decide")) {
    button.addEventListener("click", async () => {
      const row = button.closest("tr");
      const r = await postJSON(`/app/api/receipts/${row.dataset.receiptId}/${button.dataset.decision}`, { note: row.querySelector(".note").value.trim() });
      say("decide-result", r, (d) => tr(`票据 ${d.number} ${d.status === "approved" ? "已批准" : "已驳回"}`, `Receipt ${d.number} ${d.status}`));
      if (r.ok) setTimeout(() => location.reload(), 800);
    });
  }
  const sendButton = document.getElementById("send-notices");
  sendButton.addEventListener("click", async () => {
    sendButton.disabled = true;
    const r = await postJSON("/app/api/notices/send", {});
    say("send-result", r, (d) => tr(`已交短信平台 ${d.sent} 条（批次 ${d.batch || "—"}）`, `${d.sent} handed to the SMS platform (batch ${d.batch || "—"})`));
    if (r.ok) setTimeout(() => location.reload(), 1000); else sendButton.disabled = false;
  });
  for (const button of document.querySelectorAll("button.release")) {
    button.addEventListener("click", async () => {
      if (!confirm(tr(`退掉 ${button.dataset.busId}？车上乘客将释放，等待重新安排。`, `Release ${button.dataset.busId}? Its riders wait for a new plan.`))) return;
      const r = await postJSON(`/app/api/buses/${button.dataset.busId}/release`, {});
      say("release-result", r, (d) => tr(`已退车，释放 ${d.released} 人`, `Released; ${d.released} riders freed`));
      if (r.ok) setTimeout(() => location.reload(), 800);
    });
  }
  const tokenForm = document.getElementById("desk-token-form");
  tokenForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = Object.fromEntries([...new FormData(tokenForm)].filter(([, v]) => v !== ""));
    const r = await postJSON("/app/api/tokens", body);
    say("desk-token-result", r, (d) => tr(`新令牌（只显示这一次，请立即保存）：${d.token}`, `New token (shown this once; save it now): ${d.token}`));
  });
  for (const button of document.querySelectorAll(".desk-revoke")) {
    button.addEventListener("click", async () => {
      if (!confirm(tr("吊销后该令牌立即失效，确定吗？", "The token stops working at once. Revoke it?"))) return;
      const r = await postJSON(`/app/api/tokens/${button.dataset.tokenId}/revoke`, {});
      if (r.ok) location.reload(); else alert(message(r.data));
    });
  }
  const rulesForm = document.getElementById("rules-form");
  rulesForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    for (const [key, value] of new FormData(rulesForm)) body[key] = Number(value);
    const r = await postJSON("/app/api/rules", body);
    say("rules-result", r, () => tr("已保存；之后生成的计划按新规则执行", "Saved; later plans follow the new rules"));
    if (r.ok) setTimeout(() => location.reload(), 800);
  });
}

// ---- county admin: accounts and tokens -------------------------------------------------------------
function adminPage() {
  const countyForm = document.getElementById("county-form");
  countyForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = new FormData();
    for (const file of document.getElementById("county-files").files) body.append("files", file);
    const out = document.getElementById("county-result");
    const list = document.getElementById("county-problems");
    out.className = "result"; out.textContent = tr("正在检查……", "Checking…"); list.textContent = "";
    const r = await send("/app/api/county", { method: "POST", body });
    const kinds = { townships: ["乡镇", "townships"], factories: ["企业", "factories"], fleet: ["车型", "coach types"],
                    travellers: ["旅客", "travellers"], settings: ["项设置", "settings"] };
    const counts = (c) => Object.entries(c).filter(([, n]) => n).map(([k, n]) => `${n} ${tr(...kinds[k])}`).join(", ") || tr("无", "nothing");
    if (r.ok) {
      out.className = "result ok";
      out.textContent = tr(`已导入。新增：${counts(r.data.added)}；更新：${counts(r.data.updated)}；已登记未变：${r.data.already_registered} 人`,
                           `Loaded. Added: ${counts(r.data.added)}; updated: ${counts(r.data.updated)}; already registered: ${r.data.already_registered}`);
      for (const a of r.data.assumptions) { const li = document.createElement("li"); li.textContent = tr(a.zh, a.en); list.append(li); }
      return;
    }
    out.className = "result bad"; out.textContent = message(r.data);
    for (const p of r.data.problems || []) {
      const li = document.createElement("li");
      li.textContent = `${p.file || ""} ` + (p.row ? tr(`第 ${p.row} 行`, `row ${p.row}`) : "") + (p.field ? ` · ${p.field}` : "") + "：" + problemText(p);
      list.append(li);
    }
  });
  const formBody = (form) => {
    const body = {};
    for (const [key, value] of new FormData(form)) if (value !== "") body[key] = key === "days" ? Number(value) : value;
    return body;
  };
  const userForm = document.getElementById("user-form");
  userForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const r = await postJSON("/app/api/users", formBody(userForm));
    const out = document.getElementById("user-result");
    out.className = r.ok ? "result ok" : "result bad";
    out.textContent = r.ok ? tr(`已新建账户 ${r.data.username}`, `Account ${r.data.username} created`) : message(r.data);
    if (r.ok) setTimeout(() => location.reload(), 800);
  });
  for (const button of document.querySelectorAll(".toggle-user")) {
    button.addEventListener("click", async () => {
      const r = await postJSON(`/app/api/users/${button.dataset.userId}`, { disabled: button.dataset.disable === "true" });
      if (r.ok) location.reload(); else alert(message(r.data));
    });
  }
  const tokenForm = document.getElementById("token-form");
  tokenForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const r = await postJSON("/app/api/tokens", formBody(tokenForm));
    const out = document.getElementById("token-result");
    out.className = r.ok ? "result ok" : "result bad";
    // The token is shown this once; only its hash is stored.
    out.textContent = r.ok ? tr(`新令牌（只显示这一次，请立即保存）：${r.data.token}`,
                                `New token (shown this once; save it now): ${r.data.token}`) : message(r.data);
  });
  for (const button of document.querySelectorAll(".revoke")) {
    button.addEventListener("click", async () => {
      if (!confirm(tr("吊销后该令牌立即失效，确定吗？", "The token stops working at once. Revoke it?"))) return;
      const r = await postJSON(`/app/api/tokens/${button.dataset.tokenId}/revoke`, {});
      if (r.ok) location.reload(); else alert(message(r.data));
    });
  }
}

const PAGES = { township: townshipPage, dispatcher: dispatcherPage, factory: factoryPage, admin: adminPage,
                boarding: boardingPage, receipts: receiptsPage, desk: deskPage, driver: driverPage };
if (PAGES[document.body.dataset.page]) PAGES[document.body.dataset.page]();
