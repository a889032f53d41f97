// Helsebro video call: signalling over one WebSocket (docs/signalling.md), media through the
// SFU with one RTCPeerConnection. The server enforces every rule; this page only shows them.
//
// Guests: self-test → name (and optional code by SMS) → knock → waiting → call → rating.
// Hosts: straight into the call, with the waiting list and the host controls.

import { texts, csrfToken, runSelfTest, wireSpeaker, playTestSound } from './selftest.js';

const app = document.getElementById('call-app');
const t = texts();
const isHost = app.dataset.kind === 'host';
const steps = ['selftest', 'name', 'waiting', 'call', 'after'];

let ws = null;
let wsUrl = app.dataset.ws;
let pc = null;
let localStream = null;
let me = null;
let closedOnPurpose = false;
let resumeDeadline = 0;
let statsTimer = null;
let lastStats = null;
let sdpChain = Promise.resolve();
let audioOnly = false;
const tiles = new Map(); // participant id → tile element
let participants = [];

const $ = (sel) => app.querySelector(sel);

function show(step) {
  for (const s of steps) {
    const el = $(`[data-step="${s}"]`);
    if (el) el.hidden = s !== step;
  }
  app.dataset.step = step;
  const heading = $(`[data-step="${step}"] h2`);
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

function announce(text) {
  const live = $('.live-status');
  if (live) live.textContent = text;
}

function send(msg) {
  if (ws && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(msg));
}

function roleLabel(role) {
  return t[`role-${role}`] ?? role;
}

// ---- WebSocket ---------------------------------------------------------------------------

function connect() {
  const url = new URL(wsUrl, location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  ws = new WebSocket(url);
  ws.addEventListener('message', (e) => {
    let msg;
    try {
      msg = JSON.parse(e.data);
    } catch {
      return;
    }
    onMessage(msg);
  });
  ws.addEventListener('close', () => {
    if (closedOnPurpose) return;
    // The connection dropped: try again within the grace period, without knocking again.
    if (!resumeDeadline) resumeDeadline = Date.now() + Number(app.dataset.grace ?? 60) * 1000;
    if (Date.now() < resumeDeadline) {
      announce(t['call-reconnecting']);
      app.dataset.connection = 'reconnecting';
      setTimeout(connect, 1000);
    } else {
      announce(t['call-connection-lost']);
      app.dataset.connection = 'lost';
    }
  });
}

async function onMessage(msg) {
  switch (msg.type) {
    case 'welcome':
      resumeDeadline = 0;
      app.dataset.connection = 'open';
      me = msg.you;
      renderPolicy(msg.policy);
      if ($('.verify')) $('.verify').hidden = !msg.can_verify;
      if (msg.you.presence === 'in_call') {
        await enterCall();
      } else if (msg.you.presence === 'waiting') {
        show('waiting');
      }
      break;
    case 'you':
      me = msg.you;
      if (me.presence === 'waiting') show('waiting');
      break;
    case 'admitted':
      announce(t['call-admitted']);
      await enterCall();
      break;
    case 'rejected':
      show('name');
      $('.rejected').hidden = false;
      $('.rejected-message').textContent = msg.message || '';
      break;
    case 'room':
      participants = msg.participants;
      renderParticipants(msg);
      break;
    case 'knock':
      playTestSound();
      announce(`${t['call-knock']} ${msg.participant.name}`);
      document.title = `(!) ${document.title.replace(/^\(!\) /, '')}`;
      break;
    case 'answer':
      sdpChain = sdpChain.then(() => pc?.setRemoteDescription({ type: 'answer', sdp: msg.sdp })).catch(() => {});
      break;
    case 'offer':
      sdpChain = sdpChain.then(() => answerOffer(msg.sdp)).catch(() => {});
      break;
    case 'code_sent':
      $('.code-entry').hidden = false;
      announce(t['verify-code-sent']);
      break;
    case 'verified':
      $('.code-entry').hidden = true;
      $('.verified').hidden = false;
      $('.request-code').hidden = true;
      break;
    case 'muted_by_host':
      setMic(false, true);
      announce(t['call-muted-by-host']);
      break;
    case 'you_are_host':
      announce(t['call-you-are-host']);
      break;
    case 'removed':
    case 'ended':
    case 'replaced':
      closedOnPurpose = true;
      finish(msg.type);
      break;
    case 'refused':
      closedOnPurpose = true;
      finish(msg.reason);
      break;
    case 'error':
      showError(msg.code);
      break;
  }
}

function showError(code) {
  const el = $('.call-error');
  if (!el) return;
  el.textContent = t[`call-error-${code.replaceAll('_', '-')}`] ?? code;
  el.hidden = false;
  setTimeout(() => { el.hidden = true; }, 8000);
}

function renderPolicy(policy) {
  const el = $('.policy');
  if (!el) return;
  el.textContent = `${t[`policy-${policy.name}`] ?? policy.name}: ${t['policy-summary-' + policy.name] ?? ''}`;
}

// ---- media -------------------------------------------------------------------------------

async function ensureLocalStream() {
  if (localStream) return localStream;
  try {
    localStream = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: { ideal: 640 }, height: { ideal: 360 } },
    });
  } catch {
    localStream = await navigator.mediaDevices.getUserMedia({ audio: true }).catch(() => new MediaStream());
  }
  return localStream;
}

async function enterCall() {
  show('call');
  await ensureLocalStream();
  const self = $('video.self');
  if (self) {
    self.srcObject = localStream;
    self.play().catch(() => {});
  }
  await startPeer();
}

async function startPeer() {
  if (pc) pc.close();
  for (const tile of tiles.values()) tile.remove();
  tiles.clear();
  pc = new RTCPeerConnection();
  sdpChain = Promise.resolve();
  const audio = localStream.getAudioTracks()[0];
  const video = localStream.getVideoTracks()[0];
  if (audio) pc.addTransceiver(audio, { direction: 'sendrecv', streams: [localStream] });
  else pc.addTransceiver('audio', { direction: 'recvonly' });
  if (video) {
    pc.addTransceiver(video, {
      direction: 'sendrecv',
      streams: [localStream],
      sendEncodings: [
        { rid: 'l', scaleResolutionDownBy: 2, maxBitrate: 200_000 },
        { rid: 'h', scaleResolutionDownBy: 1, maxBitrate: 900_000 },
      ],
    });
  } else {
    pc.addTransceiver('video', { direction: 'recvonly' });
  }
  pc.addEventListener('track', (e) => {
    const id = e.streams[0]?.id;
    if (!id) return;
    const tile = tileFor(id);
    const v = tile.querySelector('video');
    if (!v.srcObject) v.srcObject = new MediaStream();
    v.srcObject.addTrack(e.track);
    v.play().catch(() => {});
    e.track.addEventListener('ended', () => v.srcObject?.removeTrack(e.track));
  });
  pc.addEventListener('connectionstatechange', () => {
    app.dataset.media = pc.connectionState;
    if (pc.connectionState === 'failed' && ws?.readyState === WebSocket.OPEN) {
      // A new peer connection and a new offer: the server replaces the old one.
      startPeer();
    }
  });
  const offer = await pc.createOffer();
  await pc.setLocalDescription(offer);
  send({ type: 'offer', sdp: pc.localDescription.sdp });
  clearInterval(statsTimer);
  statsTimer = setInterval(reportStats, 5000);
}

async function answerOffer(sdp) {
  if (!pc) return;
  await pc.setRemoteDescription({ type: 'offer', sdp });
  const answer = await pc.createAnswer();
  await pc.setLocalDescription(answer);
  send({ type: 'answer', sdp: pc.localDescription.sdp });
}

function tileFor(id) {
  let tile = tiles.get(id);
  if (tile) return tile;
  tile = document.createElement('figure');
  tile.className = 'tile';
  tile.dataset.participant = id;
  const v = document.createElement('video');
  v.autoplay = true;
  v.playsInline = true;
  const cap = document.createElement('figcaption');
  tile.append(v, cap);
  $('.tiles').append(tile);
  tiles.set(id, tile);
  labelTiles();
  return tile;
}

function labelTiles() {
  for (const [id, tile] of tiles) {
    const p = participants.find((x) => x.id === id);
    const cap = tile.querySelector('figcaption');
    if (p) {
      cap.textContent = `${p.name} (${roleLabel(p.role)})${p.audio ? '' : ' – ' + t['call-mic-off']}`;
      tile.querySelector('video').setAttribute('aria-label', `${t['call-video-of']} ${p.name}`);
      tile.hidden = false;
    } else {
      tile.hidden = true;
    }
  }
}

function setMic(on, byHost = false) {
  for (const tr of localStream?.getAudioTracks() ?? []) tr.enabled = on;
  const b = $('button.mic');
  b.setAttribute('aria-pressed', String(!on));
  b.textContent = on ? t['call-mic-turn-off'] : t['call-mic-turn-on'];
  if (!byHost) {
    if (on) send({ type: 'unmute' });
    send({ type: 'media_state', audio: on, video: cameraOn() });
  }
}

function cameraOn() {
  return (localStream?.getVideoTracks() ?? []).some((tr) => tr.enabled) && !audioOnly;
}

function setCamera(on) {
  for (const tr of localStream?.getVideoTracks() ?? []) tr.enabled = on;
  const b = $('button.camera');
  b.setAttribute('aria-pressed', String(!on));
  b.textContent = on ? t['call-camera-turn-off'] : t['call-camera-turn-on'];
  send({ type: 'media_state', audio: micOn(), video: on });
}

function micOn() {
  return (localStream?.getAudioTracks() ?? []).some((tr) => tr.enabled);
}

async function reportStats() {
  if (!pc) return;
  const report = await pc.getStats();
  let bytesIn = 0, bytesOut = 0, lost = 0, received = 0, jitter = 0, rtt = 0, freezes = 0;
  report.forEach((s) => {
    if (s.type === 'inbound-rtp') {
      bytesIn += s.bytesReceived ?? 0;
      lost += s.packetsLost ?? 0;
      received += s.packetsReceived ?? 0;
      if (s.kind === 'audio') jitter = Math.max(jitter, s.jitter ?? 0);
      freezes += s.freezeCount ?? 0;
    } else if (s.type === 'outbound-rtp') {
      bytesOut += s.bytesSent ?? 0;
    } else if (s.type === 'candidate-pair' && s.nominated && s.currentRoundTripTime !== undefined) {
      rtt = s.currentRoundTripTime;
    }
  });
  const now = performance.now();
  if (lastStats) {
    const secs = (now - lastStats.at) / 1000;
    const lossDelta = lost - lastStats.lost;
    const recvDelta = received - lastStats.received;
    const loss = recvDelta + lossDelta > 0 ? Math.max(0, lossDelta) / (recvDelta + lossDelta) : 0;
    const stats = {
      bitrate_in: Math.max(0, ((bytesIn - lastStats.bytesIn) * 8) / secs),
      bitrate_out: Math.max(0, ((bytesOut - lastStats.bytesOut) * 8) / secs),
      loss,
      jitter,
      rtt,
      freezes: Math.max(0, freezes - lastStats.freezes),
    };
    send({ type: 'stats', ...stats });
    const quality = loss > 0.08 || rtt > 0.6 ? 'poor' : loss > 0.02 || rtt > 0.3 ? 'fair' : 'good';
    const q = $('.quality');
    q.dataset.quality = quality;
    q.textContent = t[`quality-${quality}`];
  }
  lastStats = { at: now, bytesIn, bytesOut, lost, received, freezes };
}

// ---- participants and host controls --------------------------------------------------------

function renderParticipants(room) {
  labelTiles();
  const list = $('.participants');
  list.replaceChildren();
  for (const p of room.participants) {
    const li = document.createElement('li');
    li.dataset.participant = p.id;
    const name = document.createElement('span');
    name.textContent = `${p.name} (${roleLabel(p.role)})${p.host ? ' – ' + t['call-host'] : ''}${p.presence === 'away' ? ' – ' + t['call-away'] : ''}`;
    li.append(name);
    if (isHost && me && p.id !== me.id) {
      li.append(button(t['call-mute'], 'mute', () => send({ type: 'mute', participant: p.id })));
      li.append(button(t['call-remove'], 'remove', () => {
        if (confirm(`${t['call-remove-confirm']} ${p.name}?`)) send({ type: 'remove', participant: p.id });
      }));
      if (p.role === 'staff') {
        li.append(button(t['call-make-host'], 'make-host', () => send({ type: 'make_host', participant: p.id })));
      }
    }
    list.append(li);
  }
  if (!isHost) return;
  const lock = $('button.lock');
  lock.setAttribute('aria-pressed', String(room.locked));
  lock.textContent = room.locked ? t['call-unlock'] : t['call-lock'];
  lock.dataset.locked = String(room.locked);
  const waiting = $('.waiting-list');
  waiting.replaceChildren();
  $('.waiting-empty').hidden = room.waiting.length > 0;
  for (const p of room.waiting) {
    const li = document.createElement('li');
    li.dataset.participant = p.id;
    const name = document.createElement('span');
    name.className = 'who';
    name.textContent = `${p.name} (${roleLabel(p.role)}) – ${p.verified ? t['call-verified'] : t['call-unverified']}`;
    li.append(name);
    li.append(button(t['call-admit'], 'admit', () => send({ type: 'admit', participant: p.id })));
    li.append(button(t['call-reject'], 'reject', () => {
      const message = prompt(t['call-reject-message'], t['call-reject-default']) ?? '';
      send({ type: 'reject', participant: p.id, message });
    }));
    waiting.append(li);
  }
}

function button(text, cls, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = `small ${cls}`;
  b.textContent = text;
  b.addEventListener('click', onClick);
  return b;
}

function finish(reason) {
  clearInterval(statsTimer);
  pc?.close();
  pc = null;
  for (const tr of localStream?.getTracks() ?? []) tr.stop();
  ws?.close();
  show('after');
  const key = {
    ended: 'after-ended',
    removed: 'after-removed',
    replaced: 'after-replaced',
    left: 'after-left',
  }[reason] ?? 'after-refused';
  $('.after-reason').textContent = t[key] ?? '';
  app.dataset.finished = reason;
}

// ---- wiring --------------------------------------------------------------------------------

$('button.mic')?.addEventListener('click', () => setMic(!micOn()));
$('button.camera')?.addEventListener('click', () => setCamera(!cameraOn()));
$('button.audio-only')?.addEventListener('click', (e) => {
  audioOnly = !audioOnly;
  e.currentTarget.setAttribute('aria-pressed', String(audioOnly));
  for (const tr of localStream?.getVideoTracks() ?? []) tr.enabled = !audioOnly;
  app.classList.toggle('audio-only', audioOnly);
  send({ type: 'media_state', audio: micOn(), video: !audioOnly });
});
$('button.leave')?.addEventListener('click', () => {
  closedOnPurpose = true;
  send({ type: 'leave' });
  finish('left');
});
$('button.lock')?.addEventListener('click', (e) => {
  send({ type: e.currentTarget.dataset.locked === 'true' ? 'unlock' : 'lock' });
});
$('button.end')?.addEventListener('click', () => {
  if (confirm(t['call-end-confirm'])) send({ type: 'end' });
});
$('form.fallback')?.addEventListener('submit', async (e) => {
  e.preventDefault();
  const body = new URLSearchParams(new FormData(e.currentTarget));
  const res = await fetch(e.currentTarget.action, { method: 'POST', body, redirect: 'manual' });
  announce(res.type === 'opaqueredirect' || res.ok ? t['call-fallback-saved'] : t['call-fallback-failed']);
});
$('button.request-code')?.addEventListener('click', () => send({ type: 'request_code' }));
$('form.code-entry')?.addEventListener('submit', (e) => {
  e.preventDefault();
  send({ type: 'verify_code', code: $('input.code').value });
});
$('form.knock')?.addEventListener('submit', (e) => {
  e.preventDefault();
  $('.rejected').hidden = true;
  send({ type: 'knock', name: $('input.name').value });
});
$('button.continue')?.addEventListener('click', () => show('name'));
$('form.rating')?.addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.currentTarget);
  const res = await fetch(app.dataset.rating, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken() },
    body: JSON.stringify({ sound: Number(f.get('sound')), picture: Number(f.get('picture')) }),
  });
  $('.rating-thanks').hidden = !res.ok;
  e.currentTarget.hidden = res.ok;
});

if (isHost) {
  connect();
} else {
  const selftest = $('[data-step="selftest"]');
  wireSpeaker(selftest);
  show('selftest');
  connect();
  runSelfTest(selftest).then((result) => {
    // A participant coming back into the call may already have a stream of their own.
    if (!localStream) localStream = result.stream;
    else if (result.stream !== localStream) result.stream?.getTracks().forEach((tr) => tr.stop());
    $('button.continue').disabled = false;
  });
}
