// Helsebro equipment self-test (VC-4): camera preview, microphone level, a test sound for the
// speaker, and whether the media server answers over UDP and over TCP. Used on its own at
// /selftest and as the first step of every join link.

/** Translated texts, rendered by the server into <script type="application/json" id="hb-texts">. */
export function texts() {
  const el = document.getElementById('hb-texts');
  try {
    return el ? JSON.parse(el.textContent) : {};
  } catch {
    return {};
  }
}

export function csrfToken() {
  return document.querySelector('[data-csrf]')?.dataset.csrf ?? '';
}

function setCheck(root, name, state, text) {
  const item = root.querySelector(`[data-check="${name}"]`);
  if (!item) return;
  item.dataset.state = state;
  const out = item.querySelector('.result');
  if (out) out.textContent = text;
}

/** Asks the media server for a data-channel-only connection over one transport. */
async function probe(transport, timeoutMs = 10000) {
  const pc = new RTCPeerConnection();
  try {
    pc.createDataChannel('probe');
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const res = await fetch('/selftest/probe', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken() },
      body: JSON.stringify({ sdp: pc.localDescription.sdp, transport }),
    });
    if (!res.ok) return false;
    const { sdp } = await res.json();
    await pc.setRemoteDescription({ type: 'answer', sdp });
    return await new Promise((resolve) => {
      const done = (ok) => { clearTimeout(timer); resolve(ok); };
      const timer = setTimeout(() => done(false), timeoutMs);
      const check = () => {
        if (pc.connectionState === 'connected') done(true);
        if (pc.connectionState === 'failed') done(false);
      };
      pc.addEventListener('connectionstatechange', check);
      check();
    });
  } catch {
    return false;
  } finally {
    pc.close();
  }
}

/** Shows the microphone level in a <meter> while the stream lives. */
function meterMicrophone(stream, meter) {
  const track = stream.getAudioTracks()[0];
  if (!track || !meter) return;
  const ctx = new AudioContext();
  const source = ctx.createMediaStreamSource(new MediaStream([track]));
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  source.connect(analyser);
  const data = new Uint8Array(analyser.fftSize);
  const tick = () => {
    if (track.readyState === 'ended') { ctx.close(); return; }
    analyser.getByteTimeDomainData(data);
    let peak = 0;
    for (const v of data) peak = Math.max(peak, Math.abs(v - 128));
    meter.value = Math.min(1, peak / 64);
    meter.dataset.heard = String(Number(meter.dataset.heard ?? 0) + (peak > 2 ? 1 : 0));
    requestAnimationFrame(tick);
  };
  tick();
}

/** A short, friendly two-tone sound through the speaker. */
export function playTestSound() {
  const ctx = new AudioContext();
  const gain = ctx.createGain();
  gain.gain.value = 0.2;
  gain.connect(ctx.destination);
  [523.25, 659.25].forEach((freq, i) => {
    const osc = ctx.createOscillator();
    osc.frequency.value = freq;
    osc.connect(gain);
    osc.start(ctx.currentTime + i * 0.4);
    osc.stop(ctx.currentTime + i * 0.4 + 0.35);
  });
  setTimeout(() => ctx.close(), 1200);
}

/**
 * Runs the self-test in `root` and resolves with { stream, ok, verdict }.
 * `stream` (camera and microphone) is kept for the call, so the browser asks only once.
 */
export async function runSelfTest(root) {
  const t = texts();
  const verdictEl = root.querySelector('.verdict');
  verdictEl.textContent = t['selftest-running'] ?? '';
  let stream = null;
  let camera = false;
  let microphone = false;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: true,
      video: { width: { ideal: 640 }, height: { ideal: 360 } },
    });
    camera = stream.getVideoTracks().length > 0;
    microphone = stream.getAudioTracks().length > 0;
  } catch {
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      microphone = true;
    } catch {
      stream = null;
    }
  }
  const preview = root.querySelector('video.preview');
  if (preview && stream) {
    preview.srcObject = stream;
    preview.play().catch(() => {});
  }
  setCheck(root, 'camera', camera ? 'ok' : 'fail', camera ? t['check-ok'] : t['check-camera-missing']);
  setCheck(root, 'microphone', microphone ? 'ok' : 'fail', microphone ? t['check-ok'] : t['check-microphone-missing']);
  if (stream) meterMicrophone(stream, root.querySelector('meter.mic-level'));

  setCheck(root, 'udp', 'running', t['check-running']);
  setCheck(root, 'tcp', 'running', t['check-running']);
  const [udp, tcp] = await Promise.all([probe('udp'), probe('tcp')]);
  setCheck(root, 'udp', udp ? 'ok' : 'fail', udp ? t['check-ok'] : t['check-failed']);
  setCheck(root, 'tcp', tcp ? 'ok' : 'fail', tcp ? t['check-ok'] : t['check-failed']);

  let verdict;
  if (!udp && !tcp) verdict = 'verdict-no-network';
  else if (!camera && !microphone) verdict = 'verdict-no-devices';
  else if (!microphone) verdict = 'verdict-no-microphone';
  else if (!camera) verdict = 'verdict-no-camera';
  else if (!udp) verdict = 'verdict-tcp-only';
  else verdict = 'verdict-ok';
  const ok = (udp || tcp) && microphone;
  verdictEl.textContent = t[verdict] ?? verdict;
  verdictEl.dataset.verdict = verdict;
  root.dataset.done = ok ? 'ok' : 'problem';
  return { stream, ok, verdict };
}

function wireSpeaker(root) {
  root.querySelector('button.play-sound')?.addEventListener('click', () => {
    playTestSound();
    const q = root.querySelector('.heard');
    if (q) q.hidden = false;
  });
  for (const b of root.querySelectorAll('.heard button')) {
    b.addEventListener('click', () => {
      const heard = b.dataset.heard === 'yes';
      const t = texts();
      setCheck(root, 'speaker', heard ? 'ok' : 'fail', heard ? t['check-ok'] : t['check-speaker-not-heard']);
    });
  }
}

// Standalone page (/selftest): run at once.
const standalone = document.querySelector('[data-selftest="standalone"]');
if (standalone) {
  wireSpeaker(standalone);
  runSelfTest(standalone);
}

export { wireSpeaker };
