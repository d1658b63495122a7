/**
 * Where the demo population lives and comes from: the 20 streets of DOMAIN.md with roads of their
 * area, and the birth-place regions whose codes open ID numbers.
 */
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

export const HUANGPU = '上海市黄浦区';
export const XUHUI = '上海市徐汇区';

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

export interface Region {
  readonly code: string;
  /** Address prefix of places in the region. */
  readonly prefix: string;
  readonly roads: readonly string[];
  readonly shanghai: boolean;
}

/** Birth-place region codes used in ID numbers, with roads for hukou addresses there. */
export const REGIONS: readonly Region[] = [
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
export const SHANGHAI_OTHER_REGIONS = [2, 3, 4, 5, 6, 7, 8, 9];
export const MIGRANT_REGIONS = [10, 11, 12, 13, 14];
export const MIGRANT_REGION_WEIGHTS = [1.2, 1.3, 1.6, 1.3, 1.0];
