// ProcessPool dashboard: renders the snapshots the server streams (api/v1/events) with DOM calls only.
// Every value from the server goes in through textContent or an attribute: nothing is parsed as HTML.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const state = { pools: [], failuresPool: null, outputFor: null, failureTimer: null, openJobs: new Set(), openFailures: new Set(), failuresAsked: 0, history: new Map() };

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === 'text') node.textContent = String(value);
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const fmt = {
    int: (n) => (n ?? 0).toLocaleString('en-US'),
    secs: (s) => s === null || s === undefined ? '' : s < 90 ? `${s.toFixed(1)} s` : s < 5400 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`,
    mib: (b) => b ? `${(b / 1048576).toFixed(1)} MiB` : '',
    pct: (p) => p === null || p === undefined ? '' : `${p.toFixed(1)} %`,
    ago: (t) => t ? fmt.secs((Date.now() - Date.parse(t)) / 1000) + ' ago' : '',
    time: (t) => t ? new Date(t).toLocaleTimeString() : '',
  };

  function toast(text) {
    const node = el('div', { class: 'toast', role: 'status', text });
    document.body.append(node);
    setTimeout(() => node.remove(), 4000);
  }

  // A cluster pool's worker or job is named with its silo (?node=); a local pool's has none.
  const onNode = (path, node) => node ? `${path}?node=${encodeURIComponent(node)}` : path;
  const named = (what, node) => node ? `${what} on ${node}` : what;

  async function act(pool, path, label) {
    try {
      const response = await fetch(`api/v1/pools/${encodeURIComponent(pool)}/${path}`, { method: 'POST', credentials: 'same-origin', headers: { 'Accept': 'application/json' } });
      const body = await response.json().catch(() => ({}));
      toast(response.ok ? `${label}: done` : `${label}: ${body.error || response.status}`);
    } catch (error) {
      toast(`${label}: ${error}`);
    }
  }

  function chart(title, points, series, unit) {
    const width = 300, height = 60;
    const values = points.flatMap((p) => series.map((s) => p[s] ?? 0));
    const max = Math.max(1e-9, ...values);
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.setAttribute('preserveAspectRatio', 'none');
    series.forEach((name, index) => {
      const line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
      const step = points.length > 1 ? width / (points.length - 1) : width;
      line.setAttribute('points', points.map((p, i) => `${(i * step).toFixed(1)},${(height - 2 - ((p[name] ?? 0) / max) * (height - 4)).toFixed(1)}`).join(' '));
      line.setAttribute('class', `s${index}`);
      svg.append(line);
    });
    const last = points.length ? points[points.length - 1] : {};
    const now = series.map((s) => last[s] === null || last[s] === undefined ? '-' : (Number.isInteger(last[s]) ? String(last[s]) : Number(last[s]).toFixed(last[s] < 10 ? 2 : 0))).join(' / ');
    return el('div', { class: 'chart', 'data-chart': title }, el('div', { class: 'chart-title' }, el('span', { text: title }), el('span', { text: `${now} ${unit}` })), svg);
  }

  function stat(label, value, name) {
    return el('div', { class: 'stat', 'data-stat': name }, el('b', { text: value }), el('span', { text: label }));
  }

  // The page is drawn again on every snapshot: a list an operator opened stays open.
  function moreJobs(key, count, list) {
    const details = el('details', { class: 'more-jobs', open: state.openJobs.has(key) }, el('summary', { text: `${count} more` }), list);
    details.addEventListener('toggle', () => { if (details.open) state.openJobs.add(key); else state.openJobs.delete(key); });
    return details;
  }

  function workerRow(pool, worker) {
    const jobItem = (job) => el('li', { 'data-job-id': job.jobId, 'data-job-name': job.name },
      el('span', { text: job.name.split('.').pop(), title: job.name }),
      el('span', { class: 'muted job-time', text: fmt.secs(job.runningSeconds) }),
      job.items > 1 ? el('span', { class: 'muted', text: `${job.items} items` }) : null,
      el('button', { type: 'button', class: 'danger', 'data-action': 'cancel', onclick: () => act(pool.name, onNode(`jobs/${job.jobId}/cancel`, worker.node), named(`cancel job ${job.jobId}`, worker.node)), text: 'Cancel' }));
    // The longest-running first; beyond three, the rest folds away (a worker may run hundreds at once).
    const running = worker.running.slice().sort((a, b) => b.runningSeconds - a.runningSeconds);
    const jobs = el('div', {},
      el('ul', { class: 'jobs' }, running.slice(0, 3).map(jobItem)),
      running.length > 3 ? moreJobs(`${pool.name}/${worker.node ?? ''}/${worker.workerId}`, running.length - 3, el('ul', { class: 'jobs' }, running.slice(3).map(jobItem))) : null);
    return el('tr', { 'data-worker-id': worker.workerId, 'data-pid': worker.processId ?? '', 'data-node': worker.node },
      el('td', { class: 'num', text: worker.workerId }),
      el('td', { class: 'num pid', text: worker.processId ?? '' }),
      el('td', {}, el('span', { class: 'badge', 'data-state': worker.state, text: worker.state })),
      el('td', { class: 'num', text: fmt.secs(worker.uptimeSeconds) }),
      el('td', {}, jobs),
      el('td', { class: 'num', text: fmt.int(worker.completed) }),
      el('td', { class: 'num', text: worker.jobsUntilRecycle ?? '' }),
      el('td', { class: 'num', text: fmt.mib(worker.memoryBytes) }),
      el('td', { class: 'num', text: fmt.pct(worker.cpuPercent) }),
      el('td', { text: fmt.ago(worker.lastHeardFrom) }),
      el('td', { class: 'muted predecessor', title: worker.predecessorExit, text: worker.predecessorExit ?? '' }),
      el('td', {},
        el('button', { type: 'button', 'data-action': 'output', onclick: () => showOutput(pool.name, worker), text: 'Output' }), ' ',
        el('button', { type: 'button', 'data-action': 'recycle', onclick: () => act(pool.name, onNode(`workers/${worker.workerId}/recycle`, worker.node), named(`recycle worker ${worker.workerId}`, worker.node)), text: 'Recycle' }), ' ',
        el('button', { type: 'button', class: 'danger', 'data-action': 'kill', onclick: () => { if (confirm(`Kill ${named(`worker ${worker.workerId}`, worker.node)} (pid ${worker.processId})? Its running jobs are retried or fail as lost.`)) act(pool.name, onNode(`workers/${worker.workerId}/kill`, worker.node), named(`kill worker ${worker.workerId}`, worker.node)); }, text: 'Kill' })));
  }

  // A cluster pool's silo: a row above its workers, with its own numbers (or why it did not answer).
  function nodeRow(node) {
    const numbers = node.error
      ? [el('span', { class: 'muted', text: node.error })]
      : [`${node.ready} / ${node.processes} ready`, `${fmt.int(node.running)} running`, `${fmt.int(node.queued)} queued`, `${fmt.int(node.succeeded)} answered`, `${fmt.int(node.failed)} failed`, `${fmt.int(node.restarts)} restarts`, `${fmt.int(node.inFlight)} calls from here`]
        .map((text) => el('span', { class: 'muted', text }));
    return el('tr', { class: 'node', 'data-node': node.name },
      el('td', { colspan: 12 },
        el('b', { text: `Silo ${node.name}` }), ' ',
        el('span', { class: 'badge', 'data-state': node.state === 'Active' ? 'Ready' : node.state, text: node.state }), ' ',
        node.draining ? el('span', { class: 'badge', 'data-state': 'draining', text: 'draining' }) : null, ' ',
        node.crashLoop ? el('span', { class: 'badge', 'data-state': 'Unhealthy', title: node.crashLoop, text: 'crash loop' }) : null, ' ',
        ...numbers.flatMap((n) => [n, ' · ']).slice(0, -1)));
  }

  function workerRows(pool) {
    if (!pool.nodes.length) return pool.workers.map((w) => workerRow(pool, w));
    return pool.nodes.flatMap((node) => [nodeRow(node), ...pool.workers.filter((w) => w.node === node.name).map((w) => workerRow(pool, w))]);
  }

  function poolCard(pool) {
    const history = pool.history || [];
    const queues = pool.queues.length > 1 ? ` (${pool.queues.join(' / ')})` : '';
    return el('article', { class: 'card pool', 'data-pool': pool.name },
      el('div', { class: 'pool-head' },
        el('h2', { text: `Pool ${pool.name}` }),
        pool.kind === 'cluster' ? el('span', { class: 'badge', 'data-state': 'cluster', text: `cluster · ${pool.nodes.length} silo${pool.nodes.length === 1 ? '' : 's'}` }) : null,
        el('span', { class: 'badge health', 'data-state': pool.health, text: pool.health }),
        pool.draining ? el('span', { class: 'badge', 'data-state': 'draining', text: 'draining' }) : null,
        pool.acceptingJobs ? null : el('span', { class: 'badge', 'data-state': 'closed', text: 'closed' }),
        pool.crashLoop ? el('span', { class: 'badge', 'data-state': 'Unhealthy', title: pool.crashLoop, text: 'crash loop' }) : null,
        el('span', { class: 'spacer' }),
        pool.draining
          ? el('button', { type: 'button', 'data-action': 'resume', onclick: () => act(pool.name, 'resume', `resume ${pool.name}`), text: 'Resume' })
          : el('button', { type: 'button', 'data-action': 'drain', onclick: () => act(pool.name, 'drain', `drain ${pool.name}`), text: 'Drain' })),
      pool.crashLoop ? el('p', { class: 'muted', text: pool.crashLoop }) : null,
      el('div', { class: 'stats' },
        stat('processes', `${pool.workers.filter((w) => w.state === 'Ready').length} / ${pool.processes}`, 'processes'),
        stat('per worker', pool.childConcurrency, 'childConcurrency'),
        stat(`queued${queues}`, fmt.int(pool.queued), 'queued'),
        stat('running', fmt.int(pool.running), 'running'),
        stat('answered', fmt.int(pool.succeeded), 'succeeded'),
        stat('failed', fmt.int(pool.failed), 'failed'),
        stat('retried', fmt.int(pool.retried), 'retried'),
        stat('restarts', fmt.int(pool.restarts), 'restarts')),
      el('div', { class: 'charts' },
        chart('throughput', history, ['throughput'], 'jobs/s'),
        chart('latency p50 / p95', history, ['p50Ms', 'p95Ms'], 'ms'),
        chart('queue depth', history, ['queued'], 'jobs'),
        chart('failures', history, ['failures'], '/s')),
      el('table', { class: 'workers' },
        el('thead', {}, el('tr', {}, ['worker', 'pid', 'state', 'uptime', 'running jobs', 'answered', 'until recycle', 'memory', 'CPU', 'heard from', 'predecessor', ''].map((h, i) => el('th', { class: [0, 1, 3, 5, 6, 7, 8].includes(i) ? 'num' : null, text: h })))),
        el('tbody', {}, workerRows(pool))));
  }

  // The first event carries each pool's kept history, later ones its newest point: the page keeps the series.
  function keepHistory(snapshot) {
    for (const pool of snapshot.pools) {
      const kept = snapshot.history === 'all' ? [] : (state.history.get(pool.name) || []);
      kept.push(...(pool.history || []));
      if (kept.length > snapshot.historyPoints) kept.splice(0, kept.length - snapshot.historyPoints);
      state.history.set(pool.name, kept);
      pool.history = kept;
    }
  }

  function render(snapshot) {
    keepHistory(snapshot);
    state.pools = snapshot.pools;
    $('pools').replaceChildren(...snapshot.pools.map(poolCard));
    $('updated').textContent = `updated ${fmt.time(snapshot.at)}`;
    const select = $('failure-pool');
    const names = snapshot.pools.map((p) => p.name);
    if (select.options.length !== names.length) {
      select.replaceChildren(...names.map((n) => el('option', { value: n, text: n })));
      if (!state.failuresPool) state.failuresPool = names[0];
      select.value = state.failuresPool;
    }
    const total = snapshot.pools.find((p) => p.name === state.failuresPool)?.failed ?? 0;
    if (total !== state.failureTotal) { state.failureTotal = total; loadFailures(); }
    if (state.outputFor) loadOutput();
  }

  async function loadFailures() {
    if (!state.failuresPool) return;
    // Plain text, matched as text by the server: the search over job, type, message and stack, and the two filters.
    const params = new URLSearchParams();
    for (const [name, id] of [['q', 'failure-search'], ['job', 'failure-job'], ['type', 'failure-type']]) {
      const value = $(id).value.trim();
      if (value) params.set(name, value);
    }
    const query = params.toString();
    const url = `api/v1/pools/${encodeURIComponent(state.failuresPool)}/failures${query ? `?${query}` : ''}`;
    // Only the latest question's answer is drawn: an older one arriving late would show a search already replaced.
    const asked = ++state.failuresAsked;
    const response = await fetch(url, { credentials: 'same-origin' });
    if (!response.ok || asked !== state.failuresAsked) return;
    const body = await response.json();
    if (asked !== state.failuresAsked) return;
    $('failure-count').textContent = query ? `${body.failures.length} of ${body.total}` : `${body.total} kept`;
    $('failures').replaceChildren(...body.failures.map((f) => el('li', { 'data-job-id': f.jobId, 'data-job-name': f.jobName },
      el('div', {}, el('span', { class: 'what', text: `${f.jobName}: ${f.exceptionType}` }), ' ', el('span', { class: 'muted', text: `${fmt.time(f.at)}${f.node ? ` · silo ${f.node}` : ''} · pid ${f.processId ?? '-'} · ${f.outcome}${f.retried ? ` · attempt ${f.attempt}` : ''}` })),
      el('div', { class: 'message', text: f.message }),
      f.stackTrace ? failureDetails(`${f.jobId}/${f.at}/stack`, 'stack trace', el('pre', { class: 'stack', text: f.stackTrace })) : null,
      f.standardErrorTail.length ? failureDetails(`${f.jobId}/${f.at}/stderr`, 'standard error before it', el('pre', { text: f.standardErrorTail.join('\n') })) : null)));
  }

  // A failure's stack or stderr stays open across redraws (a new failure, a search) until its reader closes it.
  function failureDetails(key, title, content) {
    const details = el('details', { open: state.openFailures.has(key) }, el('summary', { text: title }), content);
    details.addEventListener('toggle', () => { if (details.open) state.openFailures.add(key); else state.openFailures.delete(key); });
    return details;
  }

  async function loadOutput() {
    const { pool, workerId, node } = state.outputFor;
    const response = await fetch(`api/v1/pools/${encodeURIComponent(pool)}/${onNode(`workers/${workerId}/output`, node)}`, { credentials: 'same-origin' });
    if (!response.ok) { $('output').textContent = '(the worker has exited)'; return; }
    const body = await response.json();
    $('output').textContent = body.lines.slice().reverse().map((l) => `${fmt.time(l.at)} ${l.stream === 'stderr' ? 'ERR' : 'OUT'} ${l.text}`).join('\n');
  }

  function showOutput(pool, worker) {
    state.outputFor = { pool, workerId: worker.workerId, node: worker.node };
    $('output-title').textContent = `Output of ${named(`worker ${worker.workerId}`, worker.node)} (pid ${worker.processId}), pool ${pool}`;
    $('output-section').hidden = false;
    loadOutput();
  }

  function connect() {
    const events = new EventSource('api/v1/events');
    events.addEventListener('pools', (event) => {
      $('connection').textContent = 'live';
      $('connection').dataset.state = 'live';
      render(JSON.parse(event.data));
    });
    events.onerror = () => {
      $('connection').textContent = 'reconnecting';
      $('connection').dataset.state = 'connecting';
    };
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('failure-pool').addEventListener('change', (e) => { state.failuresPool = e.target.value; loadFailures(); });
    for (const id of ['failure-search', 'failure-job', 'failure-type']) {
      $(id).addEventListener('input', () => { clearTimeout(state.failureTimer); state.failureTimer = setTimeout(loadFailures, 200); });
    }
    $('output-close').addEventListener('click', () => { state.outputFor = null; $('output-section').hidden = true; });
    connect();
  });
})();
