// The credential form shows only the fieldset of the chosen type, switching as the type changes (no reload).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  const type = document.getElementById("id_type");
  if (!type) {
    return;
  }
  function showChosen() {
    document.querySelectorAll("fieldset.credential-fields").forEach(function (fieldset) {
      fieldset.style.display = fieldset.classList.contains("credential-" + type.value) ? "" : "none";
    });
  }
  type.addEventListener("change", showChosen);
  showChosen();
});
