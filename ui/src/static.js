// `bimride console export` replaces this file with `window.BIMRIDE_STATIC = true;`.
window.BIMRIDE_STATIC = false;
