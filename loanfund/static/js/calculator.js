// Loan calculator: choosing a product recalculates at once with that product's terms.
// Without JavaScript the Calculate button does the same.
document.addEventListener("DOMContentLoaded", () => {
  const product = document.getElementById("product");
  if (product && product.form) {
    product.addEventListener("change", () => product.form.requestSubmit());
  }
});
