// The Workbench's small conveniences: switching the environment as soon as one is chosen (the form works without it).
(function () {
  "use strict";
  const choice = document.getElementById("environment-choice");
  if (choice) choice.addEventListener("change", () => choice.form.submit());
})();
