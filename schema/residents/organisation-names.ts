/**
 * Organisations by name, for people who do not know the product's ids (a resident reading who read
 * their data). The departments, offices and districts of DOMAIN.md and the demo streets; any other
 * street shows as "Street office <code>", anything else by its id.
 */
export interface OrganisationName {
  readonly id: string;
  readonly name: string;
  readonly nameZh: string | null;
}

const NAMES: Readonly<Record<string, readonly [en: string, zh: string]>> = {
  'dept:public-security': ['Municipal Public Security Bureau', '市公安局'],
  'dept:housing': ['Municipal Housing Administration Bureau', '市房屋管理局'],
  'dept:hrss': ['Municipal Human Resources and Social Security Bureau', '市人力资源和社会保障局'],
  'dept:civil-affairs': ['Municipal Civil Affairs Bureau', '市民政局'],
  'dept:urban-management': ['Municipal Urban Management and Law Enforcement Bureau', '市城市管理行政执法局'],
  'office:security': ['Data security audit office', '数据安全审计办公室'],
  'district:310101': ['Huangpu District Government', '黄浦区人民政府'],
  'district:310104': ['Xuhui District Government', '徐汇区人民政府'],
};

const STREETS: Readonly<Record<string, readonly [en: string, zh: string]>> = {
  '310101002': ['Nanjing East Road', '南京东路'],
  '310101013': ['The Bund', '外滩'],
  '310101015': ['Banshongyuan Road', '半淞园路'],
  '310101017': ['Xiaodongmen', '小东门'],
  '310101018': ['Yuyuan', '豫园'],
  '310101019': ['Laoximen', '老西门'],
  '310101020': ['Wuliqiao', '五里桥'],
  '310101021': ['Dapuqiao', '打浦桥'],
  '310101022': ['Huaihai Middle Road', '淮海中路'],
  '310101023': ['Ruijin No.2 Road', '瑞金二路'],
  '310104003': ['Tianping Road', '天平路'],
  '310104004': ['Hunan Road', '湖南路'],
  '310104007': ['Xietu Road', '斜土路'],
  '310104008': ['Fenglin Road', '枫林路'],
  '310104010': ['Changqiao', '长桥'],
  '310104011': ['Tianlin', '田林'],
  '310104012': ['Hongmei Road', '虹梅路'],
  '310104013': ['Kangjian', '康健新村'],
  '310104014': ['Xujiahui', '徐家汇'],
  '310104015': ['Lingyun Road', '凌云路'],
};

/** The name of organisation `id` in English and Chinese (null when the product has none). */
export function organisationName(id: string | null): OrganisationName {
  if (id === null) return { id: '', name: 'Unknown organisation', nameZh: '未知机构' };
  const known = NAMES[id];
  if (known) return { id, name: known[0], nameZh: known[1] };
  const street = /^street:(\d{9})$/.exec(id)?.[1];
  if (street) {
    const s = STREETS[street];
    return s
      ? { id, name: `${s[0]} Street Office`, nameZh: `${s[1]}街道办事处` }
      : { id, name: `Street office ${street}`, nameZh: `街道办事处 ${street}` };
  }
  return { id, name: id, nameZh: null };
}
