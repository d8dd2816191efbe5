// Progressive enhancement only: the page works without script. The header
// checkbox ticks every submitted order of the queue.
document.addEventListener("DOMContentLoaded", function () {
  var all = document.querySelector(".orders input.all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll('.orders input[name="order"]').forEach(function (b) { b.checked = all.checked; });
    });
  }
});
