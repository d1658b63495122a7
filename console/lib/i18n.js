// Chinese and English. The language follows the browser until the user picks one with the switch
// shown on every page; the choice is remembered in this browser. Strings live in one catalogue per
// language (console/i18n/en.js, console/i18n/zh.js), with the same keys.
import en from '../i18n/en.js';
import zh from '../i18n/zh.js';

const CATALOGUES = { en, zh };
const KEY = 'lianqiao.lang';
export const LANGUAGES = ['zh', 'en'];

function browserLanguage() {
  for (const tag of navigator.languages ?? [navigator.language]) {
    const lower = String(tag).toLowerCase();
    if (lower.startsWith('zh')) return 'zh';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

let language = LANGUAGES.includes(localStorage.getItem(KEY)) ? localStorage.getItem(KEY) : browserLanguage();
document.documentElement.lang = language === 'zh' ? 'zh-CN' : 'en';

export function currentLanguage() {
  return language;
}

export function setLanguage(next) {
  if (!LANGUAGES.includes(next)) return;
  language = next;
  localStorage.setItem(KEY, next);
  document.documentElement.lang = next === 'zh' ? 'zh-CN' : 'en';
}

/** The string for `key` in the current language, with `{name}` placeholders filled from `params`. */
export function t(key, params) {
  const text = CATALOGUES[language][key] ?? CATALOGUES.en[key] ?? key;
  return params ? text.replace(/\{(\w+)\}/g, (_, name) => (params[name] === undefined ? `{${name}}` : String(params[name]))) : text;
}

/** A date-time shown in the city's time zone (+08:00), in the current language's format. */
export function formatTime(value) {
  if (!value) return '';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(language === 'zh' ? 'zh-CN' : 'en-GB', { timeZone: 'Asia/Shanghai', hour12: false });
}
