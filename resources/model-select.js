/* Editor helper shared by the voice nodes: fills a <select> with the models
 * installed in the models directory (from an admin endpoint), keeping a
 * custom path the flow already holds. Served by Node-RED at
 * resources/node-red-contrib-realtime-voice/model-select.js. */
window.RealtimeVoice = window.RealtimeVoice || {};
window.RealtimeVoice.fillModelSelect = function (selector, endpoint, current, done) {
  $.getJSON(endpoint, function (info) {
    var select = $(selector);
    select.empty();
    select.append($('<option>').val('').text(info.installed.length ? 'default (first installed)' : 'none installed: ' + info.pull));
    // The licence says whether what the model makes may be used, e.g. commercially.
    info.installed.forEach(function (m) {
      select.append($('<option>').val(m.path).text(m.name + ' — ' + m.description + ' — licence: ' + m.licence));
    });
    var known = info.installed.some(function (m) {
      return m.path === current;
    });
    if (current && !known) select.append($('<option>').val(current).text(current));
    select.val(current || '');
    if (done) done(info);
  });
};
