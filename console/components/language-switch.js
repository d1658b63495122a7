// The language switch on every page (中文 / English).
import { html } from '../lib/html.js';
import { currentLanguage, setLanguage } from '../lib/i18n.js';

export function LanguageSwitch({ onChange }) {
  const language = currentLanguage();
  const pick = (next) => {
    setLanguage(next);
    onChange?.();
  };
  return html`<span class="language-switch" role="group" aria-label="Language / 语言">
    <button type="button" class=${language === 'zh' ? 'current' : 'secondary'} lang="zh-CN" data-lang="zh" onClick=${() => pick('zh')}>中文</button>
    <button type="button" class=${language === 'en' ? 'current' : 'secondary'} lang="en" data-lang="en" onClick=${() => pick('en')}>English</button>
  </span>`;
}
