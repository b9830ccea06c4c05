// Canned replies on the review page: picking one puts its text (in the applicant's language) into the
// text box, where the reviewer may edit it before sending. Without JavaScript the form still works: an
// empty text box with a reply picked sends the reply as it is.
document.addEventListener("DOMContentLoaded", () => {
  for (const select of document.querySelectorAll("select[data-fills]")) {
    const box = document.getElementById(select.dataset.fills);
    if (!box) continue;
    let filled = "";
    select.addEventListener("change", () => {
      const text = select.selectedOptions[0]?.dataset.text || "";
      if (box.value.trim() === "" || box.value === filled) {
        box.value = text;
        filled = text;
      }
    });
  }
});
