// Runs one notebook through JupyterLab's user interface in a real browser (Debian's chromium, driven by playwright-core)
// and checks what a reader would see. Started by scripts/notebook-browser-check.sh, which starts and stops JupyterLab.
//
//   node run-notebook.mjs --base URL --token TOKEN --notebook PATH --screenshot FILE
//                         [--kernel "Java (FLAME)"] [--kernel-timeout 60] [--run-timeout 1200] [--restarts 2]
//
// PATH is the notebook relative to JupyterLab's root dir. Steps: open the notebook (workspace reset), pick the kernel if
// a dialog asks, wait until the kernel has answered JupyterLab's kernel_info_request (the rapaio kernel's start-up race:
// a kernel that has not answered within --kernel-timeout seconds is restarted, at most --restarts times), run every cell
// with the menu Run > Run All Cells, wait
// until the kernel is idle with no cell queued, then check: the last code cell has run, at least one PNG image is shown
// (img src="data:image/png..."), and no error output exists (an output of type error in the notebook model, or stderr
// text that names an Exception). Always saves a full-page screenshot. Exit status 0 when all checks pass, 1 otherwise.
// Environment: CHROMIUM (default /usr/bin/chromium).
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const opts = {
  base: '', token: '', notebook: '', screenshot: '', kernel: 'Java (FLAME)',
  'kernel-timeout': '60', 'run-timeout': '1200', restarts: '2',
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) {
  const key = argv[i].replace(/^--/, '');
  if (!(key in opts) || i + 1 >= argv.length) {
    console.error(`browser: unknown or incomplete option ${argv[i]}`);
    process.exit(2);
  }
  opts[key] = argv[i + 1];
}
for (const k of ['base', 'token', 'notebook', 'screenshot']) {
  if (!opts[k]) { console.error(`browser: --${k} is required`); process.exit(2); }
}
const kernelTimeout = Number(opts['kernel-timeout']) * 1000;
const runTimeout = Number(opts['run-timeout']) * 1000;
const restarts = Number(opts.restarts);

const t0 = Date.now();
const log = (msg) => console.log(`browser: [${((Date.now() - t0) / 1000).toFixed(1)} s] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Waits for JupyterLab's REST API to answer (the server may still be starting).
async function waitForServer() {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${opts.base}/api/status`, { headers: { Authorization: `token ${opts.token}` } });
      if (r.ok) return;
    } catch { /* not up yet */ }
    await sleep(500);
  }
  throw new Error(`JupyterLab did not answer at ${opts.base} within 120 s`);
}

// The notebook panel's kernel status ("idle", "busy", "unknown", "starting", "dead", ...), read from the application
// object JupyterLab exposes with --LabApp.expose_app_in_browser=True; null while there is no kernel yet.
const kernelStatus = (page) => page.evaluate(() => {
  const kernel = window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel;
  return kernel ? kernel.status : null;
});

// True once the kernel has answered JupyterLab's kernel_info_request. (The status stays "unknown" until the first cell
// runs: JupyterLab ignores the busy/idle messages that answer a kernel_info_request, and the kernel's "starting" is
// published before anyone listens.) A kernel caught by the start-up race never answers.
const kernelAnswered = (page) => page.evaluate(async () => {
  const kernel = window.jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel;
  if (!kernel || kernel.connectionStatus !== 'connected') return false;
  return Promise.race([kernel.info.then(() => true, () => false), new Promise((r) => setTimeout(() => r(false), 250))]);
});

async function waitForKernel(page, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    await pickKernelIfAsked(page);
    if (await kernelAnswered(page)) return 'ready';
    if ((await kernelStatus(page)) === 'dead') return 'dead';
    await sleep(500);
  }
  return `no answer to kernel_info (status ${await kernelStatus(page)})`;
}

// JupyterLab asks for a kernel when the notebook's kernelspec is unknown or no kernel can be chosen by itself; it also
// shows a notice when a kernel died and is being restarted. Either is answered with its default button.
async function pickKernelIfAsked(page) {
  const dialog = page.locator('.jp-Dialog');
  if (!(await dialog.count())) return;
  const title = (await dialog.locator('.jp-Dialog-header').first().textContent().catch(() => '')).trim();
  log(`dialog: "${title}"`);
  const select = dialog.locator('select');
  if (await select.count()) {
    const labels = await select.locator('option').allTextContents();
    const label = labels.find((l) => l.trim() === opts.kernel);
    if (!label) throw new Error(`the kernel dialog does not offer "${opts.kernel}" (offers: ${labels.join(', ')})`);
    await select.selectOption({ label });
    log(`kernel dialog: picked "${opts.kernel}"`);
  }
  await dialog.locator('button.jp-mod-accept').click();
}

// Clicks a top-level menu and one of its items, as a user does.
async function menu(page, top, item) {
  await page.locator('#jp-menu-panel .lm-MenuBar-itemLabel', { hasText: new RegExp(`^${top}$`) }).click();
  await page.locator('.lm-Menu .lm-Menu-itemLabel', { hasText: new RegExp(`^${item}`) }).first().click();
}

// Execution state of the notebook as the page shows it: input prompts "[n]:", "[*]:" or "[ ]:".
const promptState = (page) => page.evaluate(() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')].map((p) => p.textContent.trim());
  return { total: prompts.length, queued: prompts.filter((p) => p.includes('*')).length,
    last: prompts.length ? prompts[prompts.length - 1] : '' };
});

// Error outputs: outputs of type error in the notebook model, and stderr text that names an Exception in the page.
const errorOutputs = (page) => page.evaluate(() => {
  const found = [];
  const model = window.jupyterapp?.shell?.currentWidget?.content?.model;
  if (model) {
    for (let i = 0; i < model.cells.length; i++) {
      const cell = model.cells.get(i);
      if (cell.type !== 'code') continue;
      for (const o of cell.outputs.toJSON()) {
        if (o.output_type === 'error') found.push(`cell ${i + 1}: ${o.ename}: ${String(o.evalue).slice(0, 300)}`);
      }
    }
  }
  for (const el of document.querySelectorAll('.jp-RenderedText[data-mime-type="application/vnd.jupyter.stderr"]')) {
    if (/Exception/.test(el.textContent)) found.push(`stderr: ${el.textContent.trim().slice(0, 300)}`);
  }
  return found;
});

async function screenshot(page) {
  // JupyterLab scrolls inside the notebook, not the page: grow the viewport to the notebook's height (capped, a
  // screenshot taller than about 16000 px fails) and scroll the notebook to its top, so that the full-page screenshot
  // shows every cell from the first.
  const notebookHeight = () => page.evaluate(() => {
    const scroller = document.querySelector('.jp-NotebookPanel .jp-WindowedPanel-outer')
      || document.querySelector('.jp-NotebookPanel-notebook');
    const cells = document.querySelectorAll('.jp-NotebookPanel .jp-Cell');
    if (!scroller || !cells.length) return 0;
    scroller.scrollTop = 0;
    // The last cell's bottom, not scrollHeight: the notebook adds empty space below its last cell ("scroll past end").
    const bottom = cells[cells.length - 1].getBoundingClientRect().bottom - scroller.getBoundingClientRect().top;
    return Math.ceil(bottom - scroller.clientHeight);   // what does not fit yet
  });
  const width = page.viewportSize().width;
  let height = page.viewportSize().height;
  for (let i = 0; i < 5; i++) {
    const missing = await notebookHeight();
    if (missing <= 0 || height >= 15000) break;
    height = Math.min(15000, height + missing + 50);
    await page.setViewportSize({ width, height });
    await sleep(500);
  }
  await notebookHeight();
  await sleep(1000);
  fs.mkdirSync(path.dirname(opts.screenshot), { recursive: true });
  await page.screenshot({ path: opts.screenshot, fullPage: true });
  log(`screenshot: ${opts.screenshot} (${width} x ${height} px)`);
}

async function main() {
  await waitForServer();
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'flame-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 1000 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const problems = [];
  let page;
  try {
    page = context.pages()[0] ?? await context.newPage();
    // JavaScript errors in the page, each distinct one once (JupyterLab's debugger asks every kernel for a debug
    // session; the Java kernel has none: "No active debugger session" is expected).
    const seen = new Set();
    page.on('pageerror', (e) => { if (!seen.has(e.message)) { seen.add(e.message); log(`page error: ${e.message}`); } });
    const url = `${opts.base}/lab/tree/${opts.notebook.split('/').map(encodeURIComponent).join('/')}?reset&token=${opts.token}`;
    log(`opening ${url.replace(opts.token, '<token>')}`);
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 120_000 });
    await page.locator('.jp-NotebookPanel .jp-Cell').first().waitFor({ timeout: 120_000 });
    const { total } = await promptState(page);
    log(`notebook open: ${total} code cells`);

    // The kernel must answer before anything runs; a stuck start (the start-up race) is restarted.
    let state = await waitForKernel(page, kernelTimeout);
    for (let r = 1; state !== 'ready' && r <= restarts; r++) {
      log(`kernel not ready after ${kernelTimeout / 1000} s (${state}); restarting it (Kernel > Restart Kernel...), restart ${r} of ${restarts}`);
      await menu(page, 'Kernel', 'Restart Kernel');
      await page.locator('.jp-Dialog button.jp-mod-accept').click({ timeout: 30_000 });
      state = await waitForKernel(page, kernelTimeout);
    }
    if (state !== 'ready') throw new Error(`the kernel never answered (${state})`);
    log('kernel ready; Run > Run All Cells');

    await menu(page, 'Run', 'Run All Cells');
    // Done when the kernel is idle, no cell is queued and the last code cell has an execution count (or an error
    // stopped the run: the kernel aborts the queued cells, which then show "[ ]:" again).
    const deadline = Date.now() + runTimeout;
    let started = false;
    let lastReport = 0;
    for (;;) {
      const [st, ps] = [await kernelStatus(page), await promptState(page)];
      if (ps.queued > 0 || st === 'busy') started = true;
      const lastRan = /\[\d+\]/.test(ps.last);
      if (st === 'dead') throw new Error('the kernel died while running the notebook');
      if (st === 'idle' && ps.queued === 0 && (lastRan || (started && (await errorOutputs(page)).length))) break;
      if (Date.now() > deadline) throw new Error(`the notebook did not finish within ${runTimeout / 1000} s (kernel ${st}, ${ps.queued} cells queued)`);
      if (Date.now() - lastReport > 30_000) {
        lastReport = Date.now();
        log(`running: kernel ${st}, ${ps.queued} of ${ps.total} code cells queued or running`);
      }
      await sleep(1000);
    }
    const ps = await promptState(page);
    log(`run finished: last code cell prompt ${ps.last}`);
    if (!/\[\d+\]/.test(ps.last)) problems.push(`the last code cell did not run (prompt ${ps.last})`);

    await sleep(1000);   // let the last outputs render
    const images = await page.locator('.jp-OutputArea-output img[src^="data:image/png"]').count();
    log(`PNG images shown: ${images}`);
    if (images < 1) problems.push('no PNG image is shown');
    for (const e of await errorOutputs(page)) problems.push(`error output: ${e}`);
  } catch (e) {
    problems.push(e.message.split('\n')[0]);
  } finally {
    if (page) {
      try { await screenshot(page); } catch (e) { log(`screenshot failed: ${e.message.split('\n')[0]}`); }
    }
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  if (problems.length) {
    for (const p of problems) log(`FAILED: ${p}`);
    return 1;
  }
  log(`ok: ${opts.notebook} ran in the browser with images and no errors`);
  return 0;
}

main().then((rc) => process.exit(rc), (e) => { console.error(`browser: FAILED: ${e.stack || e}`); process.exit(1); });
