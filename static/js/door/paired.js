// A phone that has just been paired (checkin/paired.html) keeps its door token and goes straight to the door page.

import { saveDevice } from "./storage.js";

const paired = document.getElementById("door-paired");
if (paired) {
  saveDevice(paired.dataset.token, paired.dataset.user, paired.dataset.device);
  location.replace(paired.dataset.next);
}
