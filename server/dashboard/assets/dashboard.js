// Progressive enhancement only: the page works without script. Choosing a
// territory applies the filter at once.
document.addEventListener("DOMContentLoaded", function () {
  var select = document.querySelector('.filters select[name="territory_id"]');
  if (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  }
});
