// Helsebro page helpers: focus the error message so screen readers read it, and keep one-time codes to digits only.

// (a) Move keyboard focus to the first alert (an error), so it is announced and seen first.
const alert = document.querySelector('[role="alert"]');
if (alert) {
  if (!alert.hasAttribute('tabindex')) {
    alert.setAttribute('tabindex', '-1');
  }
  alert.focus();
}

// (b) One-time code fields: remove anything that is not a digit while the user types or pastes.
for (const input of document.querySelectorAll('input[autocomplete="one-time-code"]')) {
  input.addEventListener('input', () => {
    const value = input.value;
    const digits = value.replace(/\D/g, '');
    if (digits === value) {
      return;
    }
    const caret = input.selectionStart ?? value.length;
    const digitsBeforeCaret = value.slice(0, caret).replace(/\D/g, '').length;
    input.value = digits;
    input.setSelectionRange(digitsBeforeCaret, digitsBeforeCaret);
  });
}

// (c) Copy buttons: <button data-copy="ID" data-copied="Copied"> copies the value of the field ID.
for (const button of document.querySelectorAll('button[data-copy]')) {
  button.addEventListener('click', async () => {
    const field = document.getElementById(button.dataset.copy);
    if (!field) {
      return;
    }
    field.select();
    try {
      await navigator.clipboard.writeText(field.value);
    } catch {
      document.execCommand('copy');
    }
    const label = button.textContent;
    button.textContent = button.dataset.copied || label;
    setTimeout(() => { button.textContent = label; }, 2000);
  });
}
