/**
 * Deterministic synthetic source data for the demo departments: houses, the persons living in them
 * and their social-security accounts, shaped like real registries (see /work/shared/DOMAIN.md).
 *
 * Pure and seeded: the same seed, person count, reference date and batch size give byte-identical
 * rows, on every machine (no Math.random, no clock, no locale). Rows are produced lazily in batches,
 * so a million persons never have to sit in memory at once; a batch always holds whole households.
 * Rows use the LOGICAL field names of connectors/datasets.ts.
 */

// ---------------------------------------------------------------------------------------------
// Row shapes
// ---------------------------------------------------------------------------------------------

export interface PersonRow {
  idNumber: string;
  name: string;
  gender: 'male' | 'female';
  /** YYYY-MM-DD */
  birthDate: string;
  ethnicity: string;
  /** 11 digits; a minor's is the household head's (guardian contact). */
  phone: string;
  hukouAddress: string;
  residenceAddress: string;
  streetCode: string;
  /** YYYY-MM-DD */
  residentSince: string;
  houseId: string;
}

export interface HouseRow {
  id: string;
  address: string;
  streetCode: string;
  /** m², two decimals. */
  buildingArea: number;
  usage: 'residential' | 'commercial' | 'mixed';
  tenure: 'owned' | 'rented' | 'public';
  ownerIdNumber: string | null;
  ownerName: string | null;
  builtYear: number;
  /** YYYY-MM-DD */
  registeredAt: string;
}

export interface AccountRow {
  idNumber: string;
  pensionStatus: 'none' | 'contributing' | 'receiving';
  /** CNY, two decimals; 0 unless receiving. */
  monthlyPension: number;
  medicalInsuranceType: 'employee' | 'resident' | 'none';
  employer: string | null;
  /** YYYY-MM */
  lastContributionMonth: string | null;
  minimumLivingAssistance: boolean;
}

export interface SyntheticBatch {
  readonly houses: HouseRow[];
  readonly persons: PersonRow[];
  readonly accounts: AccountRow[];
}

export interface SyntheticOptions {
  /** Number of persons to produce, exactly. */
  readonly persons: number;
  /** PRNG seed (any 32-bit integer). Default 20240611. */
  readonly seed?: number;
  /** Persons per batch (approximate: a batch ends after the household that reaches it). Default 5000. */
  readonly batchSize?: number;
  /** The "today" of the data set (ages, residence and contribution dates), YYYY-MM-DD. Default 2026-07-01. */
  readonly referenceDate?: string;
}

export const DEFAULT_SEED = 20240611;
export const DEFAULT_REFERENCE_DATE = '2026-07-01';

// ---------------------------------------------------------------------------------------------
// Streets and places
// ---------------------------------------------------------------------------------------------

export interface SyntheticStreet {
  readonly code: string;
  readonly name: string;
  /** District prefix of the address, e.g. 上海市黄浦区. */
  readonly district: string;
  /** Roads and lanes lying in the street's area. Every one ends in 路 or 街. */
  readonly roads: readonly string[];
  /** Relative population weight. */
  readonly weight: number;
}

const HUANGPU = '上海市黄浦区';
const XUHUI = '上海市徐汇区';

/** The 20 demo streets of DOMAIN.md with roads of their area. */
export const SYNTHETIC_STREETS: readonly SyntheticStreet[] = [
  { code: '310101002', name: '南京东路街道', district: HUANGPU, weight: 0.8, roads: ['福州路', '九江路', '汉口路', '广东路', '福建中路', '浙江中路', '天津路', '宁波路', '山西南路', '南京东路'] },
  { code: '310101013', name: '外滩街道', district: HUANGPU, weight: 0.6, roads: ['四川中路', '江西中路', '河南中路', '北京东路', '滇池路', '圆明园路', '虎丘路', '金陵东路', '中山东一路'] },
  { code: '310101015', name: '半淞园路街道', district: HUANGPU, weight: 1.1, roads: ['半淞园路', '西藏南路', '中山南路', '南车站路', '制造局路', '高雄路', '花园港路', '普育西路'] },
  { code: '310101017', name: '小东门街道', district: HUANGPU, weight: 0.9, roads: ['中华路', '东门路', '复兴东路', '外马路', '会馆街', '王家码头路', '董家渡路', '薛家浜路'] },
  { code: '310101018', name: '豫园街道', district: HUANGPU, weight: 0.8, roads: ['方浜中路', '河南南路', '福佑路', '人民路', '旧校场路', '安仁街', '四牌楼路', '光启路'] },
  { code: '310101019', name: '老西门街道', district: HUANGPU, weight: 1.0, roads: ['西藏南路', '大兴街', '尚文路', '蓬莱路', '文庙路', '学宫街', '方斜路', '大林路'] },
  { code: '310101020', name: '五里桥街道', district: HUANGPU, weight: 1.1, roads: ['鲁班路', '龙华东路', '丽园路', '蒙自路', '瞿溪路', '中山南一路', '局门路', '斜土东路'] },
  { code: '310101021', name: '打浦桥街道', district: HUANGPU, weight: 1.0, roads: ['打浦路', '徐家汇路', '建国中路', '泰康路', '瑞金南路', '建国东路', '日月街', '蒙自西路'] },
  { code: '310101022', name: '淮海中路街道', district: HUANGPU, weight: 0.9, roads: ['淮海中路', '马当路', '黄陂南路', '顺昌路', '自忠路', '兴业路', '太仓路', '重庆南路'] },
  { code: '310101023', name: '瑞金二路街道', district: HUANGPU, weight: 0.9, roads: ['瑞金二路', '复兴中路', '茂名南路', '永嘉路', '陕西南路', '南昌路', '思南路', '建国西路'] },
  { code: '310104003', name: '天平路街道', district: XUHUI, weight: 1.0, roads: ['天平路', '衡山路', '广元路', '华山路', '兴国路', '宛平路', '高安路', '康平路'] },
  { code: '310104004', name: '湖南路街道', district: XUHUI, weight: 0.7, roads: ['湖南路', '武康路', '五原路', '复兴西路', '永福路', '乌鲁木齐中路', '安福路', '延庆路'] },
  { code: '310104007', name: '斜土路街道', district: XUHUI, weight: 1.1, roads: ['斜土路', '大木桥路', '零陵路', '宛平南路', '东安路', '小木桥路', '中山南二路', '嘉善路'] },
  { code: '310104008', name: '枫林路街道', district: XUHUI, weight: 1.1, roads: ['枫林路', '医学院路', '平江路', '零陵路', '东安路', '岳阳路', '肇嘉浜路', '清真路'] },
  { code: '310104010', name: '长桥街道', district: XUHUI, weight: 1.3, roads: ['龙川北路', '罗秀路', '华石路', '百色路', '龙吴路', '罗城路', '张家塘路', '华发路'] },
  { code: '310104011', name: '田林街道', district: XUHUI, weight: 1.2, roads: ['田林路', '田林东路', '柳州路', '钦州路', '宜山路', '桂林路', '田东路', '苍梧路'] },
  { code: '310104012', name: '虹梅路街道', district: XUHUI, weight: 0.9, roads: ['虹梅路', '桂平路', '宜山路', '漕宝路', '钦江路', '田州路', '古宜路', '桂箐路'] },
  { code: '310104013', name: '康健新村街道', district: XUHUI, weight: 1.2, roads: ['康健路', '桂林路', '浦北路', '虹漕南路', '漕宝路', '寿昌路', '吴中东路', '罗城路'] },
  { code: '310104014', name: '徐家汇街道', district: XUHUI, weight: 1.0, roads: ['漕溪北路', '虹桥路', '肇嘉浜路', '天钥桥路', '南丹路', '裕德路', '番禺路', '宜山路'] },
  { code: '310104015', name: '凌云路街道', district: XUHUI, weight: 1.2, roads: ['凌云路', '梅陇路', '老沪闵路', '龙川北路', '罗秀路', '华理路', '梅陇三村路', '柳州路'] },
];

export const SYNTHETIC_STREET_CODES: readonly string[] = SYNTHETIC_STREETS.map((s) => s.code);

interface Region {
  readonly code: string;
  /** Address prefix of places in the region. */
  readonly prefix: string;
  readonly roads: readonly string[];
  readonly shanghai: boolean;
}

/** Birth-place region codes used in ID numbers, with roads for hukou addresses there. */
const REGIONS: readonly Region[] = [
  { code: '310101', prefix: HUANGPU, roads: [], shanghai: true },
  { code: '310104', prefix: XUHUI, roads: [], shanghai: true },
  { code: '310105', prefix: '上海市长宁区', roads: ['愚园路', '延安西路', '天山路', '仙霞路', '长宁路', '古北路'], shanghai: true },
  { code: '310106', prefix: '上海市静安区', roads: ['南京西路', '威海路', '北京西路', '延平路', '共和新路', '彭浦路'], shanghai: true },
  { code: '310107', prefix: '上海市普陀区', roads: ['曹杨路', '武宁路', '真如路', '兰溪路', '中山北路', '铜川路'], shanghai: true },
  { code: '310109', prefix: '上海市虹口区', roads: ['四川北路', '曲阳路', '大连路', '广中路', '东体育会路', '欧阳路'], shanghai: true },
  { code: '310110', prefix: '上海市杨浦区', roads: ['控江路', '四平路', '国定路', '黄兴路', '长阳路', '鞍山路'], shanghai: true },
  { code: '310112', prefix: '上海市闵行区', roads: ['七莘路', '都市路', '莲花南路', '古美路', '沪闵路', '龙茗路'], shanghai: true },
  { code: '310113', prefix: '上海市宝山区', roads: ['牡丹江路', '友谊路', '共康路', '淞滨路', '殷高西路', '泰和路'], shanghai: true },
  { code: '310115', prefix: '上海市浦东新区', roads: ['张杨路', '东方路', '浦东南路', '崂山路', '杨高中路', '金桥路'], shanghai: true },
  { code: '320102', prefix: '江苏省南京市玄武区', roads: ['中山路', '北京东路', '珠江路', '龙蟠路', '太平北路'], shanghai: false },
  { code: '330106', prefix: '浙江省杭州市西湖区', roads: ['文三路', '天目山路', '曙光路', '教工路', '学院路'], shanghai: false },
  { code: '340104', prefix: '安徽省合肥市蜀山区', roads: ['长江西路', '黄山路', '潜山路', '望江西路', '金寨路'], shanghai: false },
  { code: '410105', prefix: '河南省郑州市金水区', roads: ['花园路', '农业路', '经三路', '文化路', '纬五路'], shanghai: false },
  { code: '510104', prefix: '四川省成都市锦江区', roads: ['春熙路', '红星路', '东大街', '书院街', '天仙桥北路'], shanghai: false },
];
const SHANGHAI_OTHER_REGIONS = [2, 3, 4, 5, 6, 7, 8, 9];
const MIGRANT_REGIONS = [10, 11, 12, 13, 14];
const MIGRANT_REGION_WEIGHTS = [1.2, 1.3, 1.6, 1.3, 1.0];

// ---------------------------------------------------------------------------------------------
// Names, ethnicities, phones, employers
// ---------------------------------------------------------------------------------------------

// Common family names, most frequent first (weights fall off with rank).
const FAMILY_NAMES = [
  '王', '李', '张', '刘', '陈', '杨', '黄', '赵', '吴', '周', '徐', '孙', '马', '朱', '胡', '郭', '何', '林',
  '罗', '高', '郑', '梁', '谢', '宋', '唐', '许', '韩', '冯', '邓', '曹', '彭', '曾', '肖', '田', '董', '潘',
  '袁', '蔡', '蒋', '余', '于', '杜', '叶', '程', '魏', '苏', '吕', '丁', '任', '卢', '姚', '沈', '钟', '姜',
  '崔', '谭', '陆', '范', '汪', '廖', '石', '金', '韦', '贾', '夏', '付', '方', '邹', '熊', '白', '孟', '秦',
  '邱', '侯', '江', '尹', '薛', '段', '雷', '龙', '黎', '史', '陶', '贺', '毛', '郝', '顾', '龚', '邵', '万',
  '钱', '戴', '严', '莫', '孔', '向', '常', '汤', '康', '易', '乔', '赖', '文', '施', '洪', '倪', '殷', '翁',
];
const COMPOUND_FAMILY_NAMES = ['欧阳', '司马', '上官', '诸葛', '东方', '皇甫', '尉迟', '司徒'];
/** Share of compound family names. */
const COMPOUND_SHARE = 0.006;

const MALE_GIVEN = [
  '伟', '强', '磊', '军', '勇', '杰', '涛', '明', '超', '华', '建', '国', '志', '文', '斌', '鹏', '辉', '刚',
  '平', '浩', '宇', '俊', '峰', '海', '波', '东', '亮', '林', '毅', '晨', '轩', '博', '皓', '然', '天', '嘉',
  '诚', '荣', '庆', '德', '忠', '兴', '祥', '龙', '新', '民', '卫', '红', '春', '中', '宏', '飞', '凯', '铭',
];
const FEMALE_GIVEN = [
  '芳', '娜', '敏', '静', '丽', '艳', '娟', '霞', '秀', '英', '玲', '燕', '萍', '红', '婷', '雪', '琳', '倩',
  '颖', '慧', '佳', '欣', '怡', '雨', '涵', '梦', '思', '晓', '悦', '诗', '雅', '琪', '兰', '凤', '珍', '美',
  '莉', '娅', '蓉', '洁', '琴', '云', '华', '桂', '月', '彤', '萱', '妍', '若', '可', '宁', '瑶', '婉', '丹',
];

const ETHNICITIES = ['汉族', '回族', '满族', '蒙古族', '壮族', '朝鲜族', '土家族', '苗族', '藏族', '维吾尔族'];
const ETHNICITY_WEIGHTS = [930, 20, 15, 8, 8, 6, 5, 4, 2, 2];

const PHONE_PREFIXES = [
  '130', '131', '132', '133', '134', '135', '136', '137', '138', '139', '150', '151', '152', '153', '155', '156',
  '157', '158', '159', '180', '181', '182', '183', '184', '185', '186', '187', '188', '189', '191', '193', '195',
  '196', '198', '199',
];

const COMPANY_PLACES = ['上海', '上海浦江', '上海申城', '上海外滩', '上海徐汇', '上海黄浦', '上海沪南', '上海东方', '上海华亭', '上海长江'];
const COMPANY_WORDS = ['信达', '恒通', '华联', '立新', '同济', '金桥', '宏远', '瑞丰', '新联', '汇丰', '明德', '安泰', '中天', '永盛', '鼎新', '博远', '锦程', '润和', '星辰', '致远'];
const COMPANY_TRADES = ['科技', '贸易', '物业管理', '餐饮管理', '信息技术', '建筑工程', '商务咨询', '文化传媒', '医疗器械', '物流', '教育科技', '装饰工程', '电子', '服饰', '酒店管理'];
const COMPANY_FORMS = ['有限公司', '有限公司', '有限公司', '股份有限公司', '有限责任公司'];
const INSTITUTIONS = ['上海市第六人民医院', '上海交通大学', '复旦大学附属中山医院', '上海市徐汇区教育局', '上海市黄浦区卫生健康委员会', '上海地铁运营有限公司', '上海电力股份有限公司', '中国银行上海市分行'];

// ---------------------------------------------------------------------------------------------
// ID numbers (GB 11643)
// ---------------------------------------------------------------------------------------------

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** ISO 7064 MOD 11-2 check character ('0'-'9' or 'X') of the first 17 digits of an ID number. */
export function idCheckCharacter(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new Error(`expected 17 digits, got ${JSON.stringify(first17)}`);
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += (first17.charCodeAt(i) - 48) * ID_WEIGHTS[i];
  return ID_CHECK[sum % 11];
}

/** True for an 18-character resident ID number with a real birth date and a correct check character. */
export function isValidIdNumber(id: string): boolean {
  if (typeof id !== 'string' || !/^\d{17}[\dX]$/.test(id)) return false;
  const y = Number(id.slice(6, 10));
  const m = Number(id.slice(10, 12));
  const d = Number(id.slice(12, 14));
  if (y < 1800 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return false;
  return idCheckCharacter(id.slice(0, 17)) === id[17];
}

/** Gender encoded in an ID number: odd sequence (17th digit) = male. */
export function genderOfIdNumber(id: string): 'male' | 'female' {
  return (id.charCodeAt(16) - 48) % 2 === 1 ? 'male' : 'female';
}

// ---------------------------------------------------------------------------------------------
// Calendar (days since 1970-01-01, proleptic Gregorian; no Date objects, no time zones)
// ---------------------------------------------------------------------------------------------

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeap(y) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
}

/** Days from 1970-01-01 to y-m-d (H. Hinnant's days_from_civil). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** [year, month, day] of a day number (H. Hinnant's civil_from_days). */
export function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

function pad2(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** YYYY-MM-DD of a day number. */
export function isoDate(days: number): string {
  const [y, m, d] = civilFromDays(days);
  return `${y}-${pad2(m)}-${pad2(d)}`;
}

function parseIsoDate(s: string): [number, number, number] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) throw new Error(`expected a YYYY-MM-DD date, got ${JSON.stringify(s)}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** Whole years between a YYYY-MM-DD birth date and a YYYY-MM-DD day. */
export function ageOn(birthDate: string, onDate: string): number {
  const [by, bm, bd] = parseIsoDate(birthDate);
  const [y, m, d] = parseIsoDate(onDate);
  return y - by - (m < bm || (m === bm && d < bd) ? 1 : 0);
}

// ---------------------------------------------------------------------------------------------
// PRNG: sfc32 seeded through splitmix32
// ---------------------------------------------------------------------------------------------

class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 16; i++) this.uint32();
  }

  uint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** [0, 1) */
  float(): number {
    return this.uint32() / 4294967296;
  }

  /** Integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)];
  }

  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(48 + Math.floor(this.float() * 10));
    return s;
  }
}

/** Pre-computed cumulative weights for weighted picks. */
class Weighted<T> {
  private readonly cumulative: number[] = [];
  private readonly total: number;

  constructor(
    private readonly items: readonly T[],
    weights: readonly number[],
  ) {
    if (items.length !== weights.length || items.length === 0) throw new Error('weights do not match items');
    let sum = 0;
    for (const w of weights) this.cumulative.push((sum += w));
    this.total = sum;
  }

  pick(rng: Random): T {
    const x = rng.float() * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (x < this.cumulative[mid]) hi = mid;
      else lo = mid + 1;
    }
    return this.items[lo];
  }
}

// ---------------------------------------------------------------------------------------------
// Distributions
// ---------------------------------------------------------------------------------------------

const STREET_PICK = new Weighted(
  SYNTHETIC_STREETS.map((_, i) => i),
  SYNTHETIC_STREETS.map((s) => s.weight),
);
const FAMILY_PICK = new Weighted(
  FAMILY_NAMES,
  FAMILY_NAMES.map((_, rank) => 1 / (rank + 8)),
);
const ETHNICITY_PICK = new Weighted(ETHNICITIES, ETHNICITY_WEIGHTS);
const MIGRANT_REGION_PICK = new Weighted(MIGRANT_REGIONS, MIGRANT_REGION_WEIGHTS);
/** Household size of an occupied dwelling: mean about 2.6. */
const HOUSEHOLD_SIZE_PICK = new Weighted([1, 2, 3, 4, 5], [20, 29, 26, 16, 9]);
/** Age bands [lo, hi] of a household head (an adult), tuned so about 20% of all persons are 65+. */
const HEAD_AGE_PICK = new Weighted<[number, number]>(
  [
    [18, 24],
    [25, 34],
    [35, 44],
    [45, 54],
    [55, 64],
    [65, 74],
    [75, 84],
    [85, 100],
  ],
  [5, 17, 18, 17, 17, 14, 8, 4],
);
const BUILT_ERA_PICK = new Weighted<[number, number]>(
  [
    [1920, 1949],
    [1950, 1979],
    [1980, 1999],
    [2000, 2023],
  ],
  [18, 17, 35, 30],
);

// ---------------------------------------------------------------------------------------------
// The generator
// ---------------------------------------------------------------------------------------------

interface Member {
  readonly idNumber: string;
  /** Index into REGIONS of the birth-place code. */
  readonly region: number;
  readonly name: string;
  readonly gender: 'male' | 'female';
  readonly family: string;
  readonly birthDays: number;
  readonly age: number;
}

/** Earliest birth day the ID allocator covers (ages up to 101 before the reference date, with margin). */
const ID_SLOTS_PER_DAY = 499;

class IdAllocator {
  private readonly firstDay: number;
  private readonly span: number;
  private readonly used: Uint16Array;

  constructor(firstDay: number, lastDay: number) {
    this.firstDay = firstDay;
    this.span = lastDay - firstDay + 1;
    this.used = new Uint16Array(REGIONS.length * this.span * 2);
  }

  /**
   * A fresh, never-issued ID number for a region, birth day and gender. Sequences of one
   * region/day/gender are issued from a per-key offset, so they look scattered but never repeat;
   * a full key (499 per gender) moves on to the next day.
   */
  allocate(region: number, birthDays: number, male: boolean): { idNumber: string; birthDays: number } {
    let day = birthDays;
    for (;;) {
      const offset = day - this.firstDay;
      if (offset < 0 || offset >= this.span) throw new Error(`birth day ${isoDate(day)} outside the ID allocator's range`);
      const slot = (region * this.span + offset) * 2 + (male ? 1 : 0);
      const k = this.used[slot];
      if (k < ID_SLOTS_PER_DAY) {
        this.used[slot] = k + 1;
        const base = (Math.imul(region + 1, 73856093) ^ Math.imul(offset + 1, 19349663) ^ (male ? 83492791 : 0)) >>> 0;
        const j = ((base % ID_SLOTS_PER_DAY) + k) % ID_SLOTS_PER_DAY; // 0..498
        const seq = male ? 2 * j + 1 : 2 * j + 2; // male 001..997 odd, female 002..998 even
        const [y, m, d] = civilFromDays(day);
        const first17 = `${REGIONS[region].code}${y}${pad2(m)}${pad2(d)}${String(seq).padStart(3, '0')}`;
        return { idNumber: first17 + idCheckCharacter(first17), birthDays: day };
      }
      day += 1;
    }
  }
}

/**
 * Yields batches of synthetic rows for exactly `options.persons` persons. Within the whole sequence:
 * every person lives in a house yielded in the same or an earlier batch, every account belongs to a
 * person of the same batch, and ID numbers and house ids are unique.
 */
export function* generateSyntheticData(options: SyntheticOptions): Generator<SyntheticBatch, void, undefined> {
  const total = options.persons;
  if (!Number.isInteger(total) || total < 0) throw new Error(`persons must be a non-negative integer, got ${total}`);
  const batchSize = Math.max(1, options.batchSize ?? 5000);
  const rng = new Random(options.seed ?? DEFAULT_SEED);
  const refIso = options.referenceDate ?? DEFAULT_REFERENCE_DATE;
  const [refY, refM, refD] = parseIsoDate(refIso);
  const refDays = daysFromCivil(refY, refM, refD);
  const ids = new IdAllocator(daysFromCivil(refY - 102, 1, 1), refDays + 400);
  const houseCounters = new Array<number>(SYNTHETIC_STREETS.length).fill(0);
  // Residents who own their home and may own a second one they let out.
  const landlordPool: { idNumber: string; name: string }[] = [];
  const LANDLORD_POOL_SIZE = 4096;
  let landlordNext = 0;

  // --- helpers bound to this run ---------------------------------------------------------------

  const familyName = (): string => (rng.chance(COMPOUND_SHARE) ? rng.pick(COMPOUND_FAMILY_NAMES) : FAMILY_PICK.pick(rng));
  const givenName = (male: boolean): string => {
    const chars = male ? MALE_GIVEN : FEMALE_GIVEN;
    const first = rng.pick(chars);
    if (rng.chance(0.3)) return first;
    let second = rng.pick(chars);
    if (second === first && rng.chance(0.7)) second = rng.pick(chars);
    return first + second;
  };
  /** Birth day number for an exact age at the reference date. */
  const birthForAge = (age: number): number => {
    const lo = daysFromCivil(refY - age - 1, refM, refD) + 1;
    const hi = daysFromCivil(refY - age, refM, refD);
    return rng.int(lo, hi);
  };
  const phone = (): string => rng.pick(PHONE_PREFIXES) + rng.digits(8);
  const roadAddress = (prefix: string, road: string, residential: boolean): string => {
    const no = rng.int(1, 999);
    if (!residential) return `${prefix}${road}${no}号`;
    if (rng.chance(0.7)) {
      const lane = rng.int(1, 1500);
      return `${prefix}${road}${lane}弄${rng.int(1, 60)}号${rng.int(1, 24)}${pad2(rng.int(1, 6))}室`;
    }
    return `${prefix}${road}${no}号${rng.int(1, 30)}${pad2(rng.int(1, 8))}室`;
  };
  const houseAddress = (street: SyntheticStreet, usage: HouseRow['usage'], builtYear: number): string => {
    const prefix = street.district + street.name;
    const road = rng.pick(street.roads);
    if (usage === 'commercial') {
      return rng.chance(0.5) ? `${prefix}${road}${rng.int(1, 999)}号` : `${prefix}${road}${rng.int(1, 999)}号${rng.int(1, 20)}${pad2(rng.int(1, 20))}室`;
    }
    if (builtYear < 1950) {
      // Shikumen lanes: a lane number and a house number, no flats.
      return `${prefix}${road}${rng.int(1, 900)}弄${rng.int(1, 120)}号`;
    }
    if (usage === 'mixed') return `${prefix}${road}${rng.int(1, 999)}号`;
    return roadAddress(prefix, road, true);
  };
  /** An address elsewhere in a region (for a hukou not at the residence). */
  const regionAddress = (region: number): string => {
    const r = REGIONS[region];
    if (r.roads.length === 0) {
      const inDistrict = SYNTHETIC_STREETS.filter((s) => s.district === r.prefix);
      const street = rng.pick(inDistrict);
      return roadAddress(street.district + street.name, rng.pick(street.roads), true);
    }
    return roadAddress(r.prefix, rng.pick(r.roads), true);
  };
  /** Birth-place region of a person in a household. */
  const regionOf = (homeRegion: number, migrant: boolean, age: number): number => {
    if (migrant) {
      // Younger children of migrant households are often born in Shanghai.
      if (age < 15 && rng.chance(0.5)) return homeRegion;
      return MIGRANT_REGION_PICK.pick(rng);
    }
    return rng.chance(0.55) ? homeRegion : rng.pick(SHANGHAI_OTHER_REGIONS);
  };
  const newMember = (region: number, age: number, male: boolean, family: string): Member => {
    const { idNumber, birthDays } = ids.allocate(region, birthForAge(age), male);
    return {
      idNumber,
      region,
      name: family + givenName(male),
      gender: male ? 'male' : 'female',
      family,
      birthDays,
      age,
    };
  };
  /** An owner living elsewhere (not in the population data set); their ID is still unique. */
  const outsider = (): { idNumber: string; name: string } => {
    const region = rng.chance(0.8) ? rng.pick([0, 1, ...SHANGHAI_OTHER_REGIONS]) : MIGRANT_REGION_PICK.pick(rng);
    const male = rng.chance(0.5);
    const m = newMember(region, rng.int(28, 85), male, familyName());
    return { idNumber: m.idNumber, name: m.name };
  };
  const companyName = (): string => {
    if (rng.chance(0.08)) return rng.pick(INSTITUTIONS);
    return rng.pick(COMPANY_PLACES) + rng.pick(COMPANY_WORDS) + rng.pick(COMPANY_TRADES) + rng.pick(COMPANY_FORMS);
  };
  const monthOf = (days: number): string => {
    const [y, m] = civilFromDays(days);
    return `${y}-${pad2(m)}`;
  };
  const money = (x: number): number => Math.round(x * 100) / 100;

  const account = (p: PersonRow, age: number, migrant: boolean): AccountRow => {
    const male = p.gender === 'male';
    const retirementAge = male ? 60 : rng.chance(0.6) ? 55 : 50;
    let pensionStatus: AccountRow['pensionStatus'];
    if (age >= retirementAge) {
      pensionStatus = rng.chance(age >= 60 ? 0.9 : 0.75) ? 'receiving' : rng.chance(0.4) ? 'contributing' : 'none';
    } else if (age < 18) {
      pensionStatus = rng.chance(0.05) ? 'contributing' : 'none';
    } else if (age < 23) {
      pensionStatus = rng.chance(0.45) ? 'contributing' : 'none';
    } else {
      pensionStatus = rng.chance(migrant ? 0.62 : 0.78) ? 'contributing' : 'none';
    }
    let medicalInsuranceType: AccountRow['medicalInsuranceType'];
    let employer: string | null = null;
    let lastContributionMonth: string | null = null;
    let monthlyPension = 0;
    if (pensionStatus === 'contributing') {
      medicalInsuranceType = rng.chance(0.92) ? 'employee' : 'resident';
      employer = rng.chance(0.9) ? companyName() : null; // the rest contribute as flexible workers
      lastContributionMonth = monthOf(refDays - rng.int(15, 75));
    } else if (pensionStatus === 'receiving') {
      medicalInsuranceType = rng.chance(0.82) ? 'employee' : 'resident';
      // A skewed pension: most between 3,500 and 6,000, a tail up to 9,000.
      const x = (rng.float() + rng.float() + rng.float()) / 3;
      const y = x * x;
      monthlyPension = money(1500 + 7500 * Math.min(1, 0.12 + y * 0.95));
      const retirementDays = daysFromCivil(Number(p.birthDate.slice(0, 4)) + retirementAge, 1, 1);
      lastContributionMonth = retirementDays <= refDays ? monthOf(retirementDays - rng.int(1, 60)) : null;
    } else {
      medicalInsuranceType = rng.chance(0.7) ? 'resident' : 'none';
      if (age >= 25 && rng.chance(0.45)) lastContributionMonth = monthOf(refDays - rng.int(90, 365 * Math.min(20, age - 22)));
    }
    const poor = pensionStatus === 'none' ? 0.09 : pensionStatus === 'receiving' ? 0.025 : 0.006;
    return {
      idNumber: p.idNumber,
      pensionStatus,
      monthlyPension,
      medicalInsuranceType,
      employer,
      lastContributionMonth,
      minimumLivingAssistance: rng.chance(poor),
    };
  };

  // --- main loop ---------------------------------------------------------------------------------

  let produced = 0;
  let houses: HouseRow[] = [];
  let persons: PersonRow[] = [];
  let accounts: AccountRow[] = [];

  while (produced < total) {
    // The dwelling.
    const streetIndex = STREET_PICK.pick(rng);
    const street = SYNTHETIC_STREETS[streetIndex];
    const homeRegion = street.district === HUANGPU ? 0 : 1;
    const usageRoll = rng.float();
    const usage: HouseRow['usage'] = usageRoll < 0.9 ? 'residential' : usageRoll < 0.95 ? 'mixed' : 'commercial';
    const tenureRoll = rng.float();
    const tenure: HouseRow['tenure'] =
      usage === 'commercial'
        ? tenureRoll < 0.55
          ? 'owned'
          : 'rented'
        : tenureRoll < 0.64
          ? 'owned'
          : tenureRoll < 0.89
            ? 'rented'
            : 'public';
    const [eraLo, eraHi] = BUILT_ERA_PICK.pick(rng);
    const builtYear = rng.int(eraLo, eraHi);
    const houseNo = ++houseCounters[streetIndex];
    const houseId = `H${street.code}-${String(houseNo).padStart(6, '0')}`;
    const address = houseAddress(street, usage, builtYear);
    const areaBase =
      usage === 'commercial'
        ? 30 + 270 * rng.float() ** 1.5
        : builtYear < 1950
          ? 20 + 60 * rng.float() ** 1.3
          : builtYear < 1980
            ? 30 + 70 * rng.float() ** 1.2
            : 45 + 255 * rng.float() ** 2.2;
    const buildingArea = money(Math.min(300, Math.max(20, areaBase)));
    const registeredFrom = daysFromCivil(Math.max(builtYear, 1990), 1, 1);
    const registeredAt = isoDate(rng.int(registeredFrom, refDays - 1));
    const house: HouseRow = {
      id: houseId,
      address,
      streetCode: street.code,
      buildingArea,
      usage,
      tenure,
      ownerIdNumber: null,
      ownerName: null,
      builtYear,
      registeredAt,
    };
    houses.push(house);

    // The household (commercial premises are mostly empty).
    const occupied = usage !== 'commercial' || rng.chance(0.2);
    const migrant = rng.chance(tenure === 'rented' ? 0.45 : tenure === 'owned' ? 0.05 : 0.03);
    const size = occupied ? Math.min(HOUSEHOLD_SIZE_PICK.pick(rng), total - produced) : 0;
    const members: Member[] = [];
    if (size > 0) {
      const [lo, hi] = HEAD_AGE_PICK.pick(rng);
      const headAge = rng.int(lo, hi);
      const headMale = rng.chance(0.55);
      const head = newMember(regionOf(homeRegion, migrant, headAge), headAge, headMale, familyName());
      members.push(head);
      let fatherFamily = head.family;
      for (let i = 1; i < size; i++) {
        const roll = rng.float();
        if (i === 1 && roll < 0.78) {
          // Spouse: opposite gender, similar age, own family name.
          const age = Math.min(100, Math.max(18, headAge + rng.int(-5, 5) + (headMale ? -2 : 2)));
          const spouse = newMember(regionOf(homeRegion, migrant, age), age, !headMale, familyName());
          if (!headMale) fatherFamily = spouse.family;
          members.push(spouse);
        } else if (headAge >= 42 && headAge < 80 && roll < 0.93 && headAge - 22 >= 0) {
          // A child (adult or minor) or a grandchild.
          const grand = headAge >= 60 && rng.chance(0.35);
          const age = grand ? Math.max(0, headAge - rng.int(48, 70)) : Math.max(0, headAge - rng.int(22, 38));
          const male = rng.chance(0.51);
          members.push(newMember(regionOf(homeRegion, migrant, age), age, male, rng.chance(0.92) ? fatherFamily : familyName()));
        } else if (headAge < 42 && roll < 0.75) {
          const age = Math.max(0, headAge - rng.int(22, 36));
          const male = rng.chance(0.51);
          members.push(newMember(regionOf(homeRegion, migrant, age), age, male, rng.chance(0.92) ? fatherFamily : familyName()));
        } else if (headAge < 70) {
          // An elderly parent.
          const age = Math.min(100, headAge + rng.int(22, 34));
          const male = rng.chance(0.4);
          members.push(newMember(regionOf(homeRegion, migrant, age), age, male, male ? head.family : familyName()));
        } else {
          // A relative or carer.
          const age = rng.int(18, 70);
          const male = rng.chance(0.4);
          members.push(newMember(regionOf(homeRegion, migrant, age), age, male, familyName()));
        }
      }
    }

    // Ownership.
    if (tenure === 'owned') {
      const owner = members.length > 0 && members[0].age >= 18 && rng.chance(0.85) ? members[0] : outsider();
      house.ownerIdNumber = owner.idNumber;
      house.ownerName = owner.name;
    } else if (tenure === 'rented') {
      const owner = landlordPool.length > 0 && rng.chance(0.35) ? rng.pick(landlordPool) : outsider();
      house.ownerIdNumber = owner.idNumber;
      house.ownerName = owner.name;
    }
    if (tenure === 'owned' && members.length > 0 && house.ownerIdNumber === members[0].idNumber && members[0].age >= 30) {
      const entry = { idNumber: members[0].idNumber, name: members[0].name };
      if (landlordPool.length < LANDLORD_POOL_SIZE) landlordPool.push(entry);
      else landlordPool[landlordNext++ % LANDLORD_POOL_SIZE] = entry;
    }

    // Persons and accounts.
    const builtDays = daysFromCivil(builtYear, 1, 1);
    const householdHukouHere = !migrant && rng.chance(0.78);
    const headPhone = phone();
    for (let i = 0; i < members.length; i++) {
      const m = members[i];
      const regionIndex = m.region;
      const birthDate = isoDate(m.birthDays);
      let hukouAddress: string;
      if (!REGIONS[regionIndex].shanghai) hukouAddress = regionAddress(regionIndex);
      else if (householdHukouHere || (migrant && m.age < 15)) hukouAddress = address;
      else hukouAddress = rng.chance(0.3) ? address : regionAddress(regionIndex);
      const sinceFrom = Math.max(m.birthDays, builtDays, daysFromCivil(1950, 1, 1));
      const residentSince = isoDate(sinceFrom >= refDays ? refDays : rng.int(sinceFrom, refDays));
      const ethnicity = i === 0 || !rng.chance(0.85) ? ETHNICITY_PICK.pick(rng) : persons[persons.length - 1].ethnicity;
      const person: PersonRow = {
        idNumber: m.idNumber,
        name: m.name,
        gender: m.gender,
        birthDate,
        ethnicity,
        phone: i === 0 ? headPhone : m.age < 16 ? headPhone : phone(),
        hukouAddress,
        residenceAddress: address,
        streetCode: street.code,
        residentSince,
        houseId,
      };
      persons.push(person);
      produced++;
      if (m.age >= 16 && rng.chance(0.85)) accounts.push(account(person, m.age, migrant));
    }

    if (persons.length >= batchSize || produced >= total) {
      yield { houses, persons, accounts };
      houses = [];
      persons = [];
      accounts = [];
    }
  }
  if (houses.length > 0) yield { houses, persons, accounts };
}

/** All rows at once: for tests and small demo data sets only. */
export function collectSyntheticData(options: SyntheticOptions): { houses: HouseRow[]; persons: PersonRow[]; accounts: AccountRow[] } {
  const houses: HouseRow[] = [];
  const persons: PersonRow[] = [];
  const accounts: AccountRow[] = [];
  for (const batch of generateSyntheticData(options)) {
    for (const h of batch.houses) houses.push(h);
    for (const p of batch.persons) persons.push(p);
    for (const a of batch.accounts) accounts.push(a);
  }
  return { houses, persons, accounts };
}
