// Names of the demo's streets and districts (DOMAIN.md), for display next to their codes. Codes the
// list does not know are shown as they are.
const STREETS = {
  310101002: ['南京东路', 'Nanjing East Road'],
  310101013: ['外滩', 'The Bund'],
  310101015: ['半淞园路', 'Banshongyuan Road'],
  310101017: ['小东门', 'Xiaodongmen'],
  310101018: ['豫园', 'Yuyuan'],
  310101019: ['老西门', 'Laoximen'],
  310101020: ['五里桥', 'Wuliqiao'],
  310101021: ['打浦桥', 'Dapuqiao'],
  310101022: ['淮海中路', 'Huaihai Middle Road'],
  310101023: ['瑞金二路', 'Ruijin No.2 Road'],
  310104003: ['天平路', 'Tianping Road'],
  310104004: ['湖南路', 'Hunan Road'],
  310104007: ['斜土路', 'Xietu Road'],
  310104008: ['枫林路', 'Fenglin Road'],
  310104010: ['长桥', 'Changqiao'],
  310104011: ['田林', 'Tianlin'],
  310104012: ['虹梅路', 'Hongmei Road'],
  310104013: ['康健新村', 'Kangjian'],
  310104014: ['徐家汇', 'Xujiahui'],
  310104015: ['凌云路', 'Lingyun Road'],
};
const DISTRICTS = { 310101: ['黄浦区', 'Huangpu'], 310104: ['徐汇区', 'Xuhui'] };

export const KNOWN_STREETS = Object.keys(STREETS);

/** The street codes of a district (`310101`) that the list knows. */
export function streetsOfDistrict(district) {
  return KNOWN_STREETS.filter((code) => code.startsWith(district));
}

export function streetName(code, language) {
  const names = STREETS[String(code).replace(/^street:/, '')];
  return names ? names[language === 'zh' ? 0 : 1] : '';
}

export function districtName(code, language) {
  const names = DISTRICTS[String(code).replace(/^district:/, '')];
  return names ? names[language === 'zh' ? 0 : 1] : '';
}
