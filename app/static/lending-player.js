/* Kuulo audiobook player: native <audio controls> plus chapter navigation, playback speed, keyboard
   shortcuts (Alt+Shift+…, announced through a live region and aria-keyshortcuts) and position sync.
   Without JavaScript the page still works: chapter and track links reload it with #t= in the src. */
(function () {
  "use strict";
  var root = document.getElementById("player");
  var audio = document.getElementById("audio");
  if (!root || !audio) { return; }
  var data = root.dataset;
  var tracks = JSON.parse(data.tracks || "[]");
  var links = Array.prototype.slice.call(document.querySelectorAll("a.chapter"));
  var chapters = links.filter(function (a) { return a.closest("nav.chapters"); }).map(function (a) {
    return { track: Number(a.dataset.track), start: Number(a.dataset.start), title: a.textContent.trim(), link: a };
  });
  var statusEl = document.getElementById("player-status");
  var nowPlaying = document.getElementById("now-playing");
  var speed = document.getElementById("speed");
  var current = Number(data.startTrack) || 1;
  var pendingSeek = null;
  var lastSaved = 0;
  var lastChapter = null;
  var quietPlay = false;  // a chapter jump announces the chapter, not "Playing"

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) { return values[key] === undefined ? "" : values[key]; });
  }
  function say(text) {  // re-set the text so that the same message is announced again
    statusEl.textContent = "";
    window.setTimeout(function () { statusEl.textContent = text; }, 50);
  }
  function spoken(seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    if (h) { return fill(data.fmtHms, { h: h, m: m, s: s % 60 }); }
    if (m) { return fill(data.fmtMs, { m: m, s: s % 60 }); }
    return fill(data.fmtS, { s: s });
  }
  function trackInfo(number) { return tracks[number - 1]; }
  function chapterIndex() {
    var time = audio.currentTime + 0.25, found = -1;
    chapters.forEach(function (c, i) { if (c.track < current || (c.track === current && c.start <= time)) { found = i; } });
    return found;
  }
  function elapsed() {
    var before = 0;
    for (var i = 0; i < current - 1; i++) { before += tracks[i].duration; }
    return before + audio.currentTime;
  }
  function total() { return tracks.reduce(function (sum, t) { return sum + t.duration; }, 0); }
  function chapterTitle() {
    var i = chapterIndex();
    return i >= 0 ? chapters[i].title : (trackInfo(current) || {}).title || "";
  }
  function markCurrent() {
    var i = chapterIndex();
    if (i === lastChapter) { return; }
    lastChapter = i;
    links.forEach(function (a) { a.removeAttribute("aria-current"); });
    if (i >= 0) { chapters[i].link.setAttribute("aria-current", "true"); }
    nowPlaying.textContent = chapterTitle();
  }
  function applySpeed() {
    var value = Number(speed.value) || 1;
    audio.defaultPlaybackRate = value;
    audio.playbackRate = value;
  }
  function go(track, time, play) {
    var info = trackInfo(track);
    if (!info) { return; }
    if (track !== current || !audio.currentSrc) {
      current = track;
      pendingSeek = time;
      audio.src = info.url;
      audio.load();
      applySpeed();
    } else if (audio.readyState < 1) {
      pendingSeek = time;
    } else {
      audio.currentTime = time;
    }
    if (play) { quietPlay = audio.paused; audio.play().catch(function () {}); }
    markCurrent();
  }
  audio.addEventListener("loadedmetadata", function () {
    if (pendingSeek !== null) { audio.currentTime = pendingSeek; pendingSeek = null; }
    applySpeed();
    markCurrent();
  });
  audio.addEventListener("timeupdate", function () {
    markCurrent();
    if (!audio.paused && Date.now() - lastSaved > 15000) { save(false); }
  });
  var playPause = document.getElementById("play-pause");
  function labelPlayPause() {  // the button says what it does next
    playPause.textContent = audio.paused ? playPause.dataset.labelPlay : playPause.dataset.labelPause;
  }
  function togglePlay() {
    if (audio.paused) { audio.play().catch(function () {}); } else { audio.pause(); }
  }
  audio.addEventListener("play", function () {
    labelPlayPause();
    if (quietPlay) { quietPlay = false; } else { say(data.msgPlaying); }
  });
  audio.addEventListener("pause", function () {
    labelPlayPause();
    if (!audio.ended) { say(data.msgPaused); }
    save(false);
  });
  audio.addEventListener("ended", function () {
    if (current < tracks.length) { go(current + 1, 0, true); } else { say(data.msgEnd); save(false); }
  });

  function save(leaving) {
    if (!audio.currentSrc || isNaN(audio.currentTime)) { return; }
    lastSaved = Date.now();
    fetch(data.positionUrl, {
      method: "PUT", credentials: "same-origin", keepalive: leaving,
      headers: { "Content-Type": "application/json", "X-CSRFToken": data.csrf },
      body: JSON.stringify({ track: current, offset: Math.round(audio.currentTime * 10) / 10,
                             recorded_at: new Date().toISOString(), device: "web" })
    }).catch(function () {});
  }
  window.addEventListener("pagehide", function () { save(true); });
  document.addEventListener("visibilitychange", function () { if (document.visibilityState === "hidden") { save(true); } });

  function skip(seconds) {
    var time = Math.max(0, Math.min(audio.currentTime + seconds, audio.duration || Infinity));
    audio.currentTime = time;
    say(fill(seconds < 0 ? data.msgBack : data.msgForward, { seconds: Math.abs(seconds) }));
  }
  function toChapter(step) {
    var i = chapterIndex();
    // "Previous" within the first seconds of a chapter goes to the one before; later, to its start.
    if (step < 0 && i >= 0 && audio.currentTime - chapters[i].start > 3 && chapters[i].track === current) { step = 0; }
    var target = chapters[Math.max(i, 0) + step];
    if (!target || (i < 0 && step < 0)) { say(step < 0 ? data.msgFirst : data.msgLast); return; }
    go(target.track, target.start, !audio.paused);
    say(fill(data.msgChapter, { chapter: target.title }));
  }
  function where() {
    say(fill(data.msgWhere, { chapter: chapterTitle(), time: spoken(elapsed()), total: spoken(total()) }));
  }
  function stepSpeed(step) {
    var i = Math.max(0, Math.min(speed.selectedIndex + step, speed.options.length - 1));
    speed.selectedIndex = i;
    speed.dispatchEvent(new Event("change"));
  }

  var actions = { toggle: togglePlay, back: function () { skip(-15); }, forward: function () { skip(30); },
                  previous: function () { toChapter(-1); }, next: function () { toChapter(1); }, where: where };
  root.querySelectorAll("button[data-action]").forEach(function (button) {
    button.addEventListener("click", function () { actions[button.dataset.action](); });
  });
  links.forEach(function (a) {
    a.addEventListener("click", function (event) {
      event.preventDefault();
      go(Number(a.dataset.track), Number(a.dataset.start), true);
      say(fill(data.msgChapter, { chapter: a.textContent.trim() }));
    });
  });
  speed.addEventListener("change", function () {
    applySpeed();
    try { window.localStorage.setItem("kuulo.speed", speed.value); } catch (e) { /* private mode */ }
    say(fill(data.msgSpeed, { speed: speed.value }));
  });
  document.addEventListener("keydown", function (event) {
    if (!event.altKey || !event.shiftKey || event.ctrlKey || event.metaKey) { return; }
    var keys = { KeyP: togglePlay,
                 ArrowLeft: actions.back, ArrowRight: actions.forward, KeyB: actions.previous, KeyN: actions.next,
                 KeyW: where, ArrowUp: function () { stepSpeed(1); }, ArrowDown: function () { stepSpeed(-1); } };
    var action = keys[event.code];
    if (action) { event.preventDefault(); action(); }
  });

  try {
    var stored = window.localStorage.getItem("kuulo.speed");
    if (stored && speed.querySelector('option[value="' + stored + '"]')) { speed.value = stored; }
  } catch (e) { /* private mode */ }
  applySpeed();
  document.getElementById("player-controls").hidden = false;

  if (data.explicit !== "true") {  // resume where the patron left off, on any device
    fetch(data.positionUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        var p = body && body.position;
        if (!p || !trackInfo(p.track) || (p.track === 1 && p.offset < 1)) { return; }
        go(p.track, p.offset, false);
        lastChapter = null;
        window.setTimeout(function () { say(fill(data.msgResumed, { where: chapterTitle() + ", " + spoken(p.offset) })); }, 300);
      }).catch(function () {});
  } else {
    pendingSeek = Number(data.startTime) || 0;
  }
  markCurrent();
}());
