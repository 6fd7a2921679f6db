"""Static vocabularies of the demo world: names, places, brands, industries, titles.

Each Chinese word carries its pinyin so that emails and domains can be derived the way Chinese
companies actually derive them (``zhangwei@``, ``huaxin.com.cn``).
"""

from dataclasses import dataclass

# (surname, pinyin, relative frequency per 100): the common ones dominate, as in real life.
SURNAMES: tuple[tuple[str, str, float], ...] = (
    ("王", "wang", 7.1), ("李", "li", 7.0), ("张", "zhang", 6.7), ("刘", "liu", 5.4),
    ("陈", "chen", 4.5), ("杨", "yang", 3.1), ("黄", "huang", 2.2), ("赵", "zhao", 2.0),
    ("吴", "wu", 2.0), ("周", "zhou", 1.9), ("徐", "xu", 1.5), ("孙", "sun", 1.5),
    ("马", "ma", 1.3), ("朱", "zhu", 1.3), ("胡", "hu", 1.2), ("郭", "guo", 1.1),
    ("何", "he", 1.0), ("高", "gao", 1.0), ("林", "lin", 1.0), ("罗", "luo", 0.9),
    ("郑", "zheng", 0.9), ("梁", "liang", 0.9), ("谢", "xie", 0.8), ("宋", "song", 0.7),
    ("唐", "tang", 0.7), ("许", "xu", 0.7), ("韩", "han", 0.7), ("冯", "feng", 0.6),
    ("邓", "deng", 0.6), ("曹", "cao", 0.6), ("彭", "peng", 0.6), ("曾", "zeng", 0.6),
    ("肖", "xiao", 0.6), ("田", "tian", 0.5), ("董", "dong", 0.5), ("袁", "yuan", 0.5),
    ("潘", "pan", 0.5), ("于", "yu", 0.5), ("蒋", "jiang", 0.5), ("蔡", "cai", 0.5),
    ("余", "yu", 0.5), ("杜", "du", 0.5), ("叶", "ye", 0.5), ("程", "cheng", 0.5),
    ("苏", "su", 0.4), ("魏", "wei", 0.4), ("吕", "lv", 0.4), ("丁", "ding", 0.4),
    ("任", "ren", 0.4), ("沈", "shen", 0.4), ("姚", "yao", 0.4), ("卢", "lu", 0.4),
    ("姜", "jiang", 0.4), ("崔", "cui", 0.4), ("钟", "zhong", 0.4), ("谭", "tan", 0.3),
    ("陆", "lu", 0.3), ("汪", "wang", 0.3), ("范", "fan", 0.3), ("金", "jin", 0.3),
    ("石", "shi", 0.3), ("廖", "liao", 0.3), ("贾", "jia", 0.3), ("夏", "xia", 0.3),
    ("韦", "wei", 0.3), ("欧阳", "ouyang", 0.05), ("司马", "sima", 0.02),
    ("上官", "shangguan", 0.01),
)  # fmt: skip

GIVEN_CHARS: tuple[tuple[str, str], ...] = (
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"), ("丽", "li"),
    ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("明", "ming"), ("超", "chao"), ("秀", "xiu"),
    ("霞", "xia"), ("平", "ping"), ("刚", "gang"), ("桂", "gui"), ("英", "ying"), ("华", "hua"),
    ("建", "jian"), ("文", "wen"), ("辉", "hui"), ("玲", "ling"), ("红", "hong"), ("鹏", "peng"),
    ("宇", "yu"), ("浩", "hao"), ("凯", "kai"), ("晨", "chen"), ("欣", "xin"), ("婷", "ting"),
    ("雪", "xue"), ("琳", "lin"), ("斌", "bin"), ("峰", "feng"), ("波", "bo"), ("宁", "ning"),
    ("俊", "jun"), ("帅", "shuai"), ("雷", "lei"), ("飞", "fei"), ("燕", "yan"), ("倩", "qian"),
    ("颖", "ying"), ("博", "bo"), ("子", "zi"), ("梓", "zi"), ("涵", "han"), ("轩", "xuan"),
    ("思", "si"), ("雨", "yu"), ("嘉", "jia"), ("怡", "yi"), ("晓", "xiao"), ("东", "dong"),
    ("海", "hai"), ("亮", "liang"), ("志", "zhi"), ("云", "yun"), ("鑫", "xin"), ("晶", "jing"),
    ("慧", "hui"), ("佳", "jia"), ("悦", "yue"), ("天", "tian"), ("昊", "hao"), ("然", "ran"),
    ("欢", "huan"), ("丹", "dan"), ("蕾", "lei"), ("立", "li"), ("新", "xin"), ("国", "guo"),
    ("春", "chun"), ("振", "zhen"), ("永", "yong"), ("成", "cheng"), ("伦", "lun"), ("彬", "bin"),
)  # fmt: skip

ENGLISH_NAMES: tuple[str, ...] = (
    "David", "Kevin", "Jason", "Eric", "Tony", "Jack", "Peter", "Michael", "Frank", "Leo",
    "Vincent", "Alex", "Steven", "Ray", "Sam", "Grace", "Amy", "Cherry", "Lily", "Vivian",
    "Cathy", "Helen", "Linda", "Emma", "Sophia", "Iris", "Wendy", "Joyce", "Echo", "Sunny",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class City:
    name: str
    pinyin: str
    division: str  # administrative division code, the USCC's characters 3-8
    area_code: str  # landline trunk prefix
    weight: float


CITIES: tuple[City, ...] = tuple(
    City(n, p, d, a, w)
    for n, p, d, a, w in (
        ("北京", "beijing", "110105", "010", 9.0), ("上海", "shanghai", "310115", "021", 9.0),
        ("深圳", "shenzhen", "440305", "0755", 6.0), ("广州", "guangzhou", "440106", "020", 5.0),
        ("杭州", "hangzhou", "330106", "0571", 4.0), ("南京", "nanjing", "320106", "025", 3.0),
        ("苏州", "suzhou", "320505", "0512", 3.0), ("成都", "chengdu", "510107", "028", 3.0),
        ("武汉", "wuhan", "420106", "027", 2.5), ("西安", "xian", "610113", "029", 2.0),
        ("重庆", "chongqing", "500112", "023", 2.0), ("天津", "tianjin", "120116", "022", 2.0),
        ("长沙", "changsha", "430104", "0731", 1.5), ("郑州", "zhengzhou", "410105", "0371", 1.5),
        ("青岛", "qingdao", "370212", "0532", 1.5), ("济南", "jinan", "370102", "0531", 1.2),
        ("合肥", "hefei", "340104", "0551", 1.2), ("福州", "fuzhou", "350102", "0591", 1.0),
        ("厦门", "xiamen", "350203", "0592", 1.0), ("宁波", "ningbo", "330212", "0574", 1.0),
        ("无锡", "wuxi", "320214", "0510", 1.0), ("东莞", "dongguan", "441900", "0769", 1.0),
        ("佛山", "foshan", "440604", "0757", 1.0), ("沈阳", "shenyang", "210102", "024", 0.8),
        ("大连", "dalian", "210204", "0411", 0.8), ("哈尔滨", "haerbin", "230103", "0451", 0.6),
        ("长春", "changchun", "220104", "0431", 0.5), ("昆明", "kunming", "530102", "0871", 0.6),
        ("贵阳", "guiyang", "520103", "0851", 0.6), ("南宁", "nanning", "450103", "0771", 0.5),
        ("南昌", "nanchang", "360102", "0791", 0.5),
        ("石家庄", "shijiazhuang", "130102", "0311", 0.5),
        ("太原", "taiyuan", "140105", "0351", 0.4), ("兰州", "lanzhou", "620102", "0931", 0.3),
        ("乌鲁木齐", "wulumuqi", "650102", "0991", 0.2), ("海口", "haikou", "460106", "0898", 0.2),
    )
)  # fmt: skip

DISTRICTS: tuple[str, ...] = (
    "城东", "城西", "江北", "江南", "高新", "滨海", "新城", "开发", "经开", "临港", "湖滨",
    "河西", "东湖", "西湖", "南山", "北岸", "金桥", "天河", "海淀", "浦东", "龙华", "雁塔",
)  # fmt: skip

# Brand characters and their pinyin: two of them make a company's trade name (字号).
BRAND_CHARS: tuple[tuple[str, str], ...] = (
    ("华", "hua"), ("信", "xin"), ("恒", "heng"), ("达", "da"), ("鼎", "ding"), ("盛", "sheng"),
    ("中", "zhong"), ("科", "ke"), ("博", "bo"), ("远", "yuan"), ("天", "tian"), ("宇", "yu"),
    ("瑞", "rui"), ("泰", "tai"), ("安", "an"), ("康", "kang"), ("新", "xin"), ("海", "hai"),
    ("德", "de"), ("润", "run"), ("嘉", "jia"), ("和", "he"), ("通", "tong"), ("联", "lian"),
    ("创", "chuang"), ("智", "zhi"), ("云", "yun"), ("星", "xing"), ("辰", "chen"), ("金", "jin"),
    ("融", "rong"), ("汇", "hui"), ("丰", "feng"), ("鑫", "xin"), ("源", "yuan"), ("启", "qi"),
    ("明", "ming"), ("正", "zheng"), ("宏", "hong"), ("立", "li"), ("方", "fang"), ("东", "dong"),
    ("昊", "hao"), ("晟", "sheng"), ("腾", "teng"), ("飞", "fei"), ("航", "hang"), ("凯", "kai"),
    ("旭", "xu"), ("锦", "jin"), ("朗", "lang"), ("睿", "rui"), ("峰", "feng"), ("川", "chuan"),
    ("江", "jiang"), ("光", "guang"), ("辉", "hui"), ("祥", "xiang"), ("福", "fu"), ("永", "yong"),
    ("长", "chang"), ("万", "wan"), ("佳", "jia"), ("优", "you"), ("卓", "zhuo"), ("越", "yue"),
    ("世", "shi"), ("纪", "ji"), ("君", "jun"), ("亿", "yi"), ("兴", "xing"), ("隆", "long"),
    ("昌", "chang"), ("银", "yin"), ("九", "jiu"), ("易", "yi"), ("思", "si"), ("维", "wei"),
)  # fmt: skip

# Simplified -> traditional, for people who type the company name on a traditional keyboard.
TRADITIONAL = str.maketrans(
    "华达东电联网络业险寿团国银丰汇兴长万优纪亿飞锦辉开发云创药医车贸运输广门庆宁苏龙产证券经济",
    "華達東電聯網絡業險壽團國銀豐匯興長萬優紀億飛錦輝開發雲創藥醫車貿運輸廣門慶寧蘇龍產證券經濟",
)


@dataclass(frozen=True, slots=True)
class Industry:
    key: str
    label: str  # what a form's industry dropdown shows
    aliases: tuple[str, ...]  # what people type instead
    weight: float
    suffixes: tuple[str, ...]  # legal-name endings after the trade name
    uscc_prefix: str  # registration authority + entity category: 91 enterprise, 11 government
    size_weights: tuple[float, float, float, float, float]  # across SIZE_BANDS


SIZE_BANDS: tuple[tuple[str, int], ...] = (
    ("1-49", 1), ("50-199", 2), ("200-999", 4), ("1000-4999", 8), ("5000+", 16),
)  # fmt: skip

INDUSTRIES: tuple[Industry, ...] = (
    Industry("banking", "银行", ("金融", "银行业", "Banking"), 9,
             ("银行股份有限公司", "农村商业银行股份有限公司", "村镇银行有限责任公司"), "91",
             (0.05, 0.15, 0.3, 0.3, 0.2)),
    Industry("insurance", "保险", ("金融", "保险业", "Insurance"), 6,
             ("人寿保险股份有限公司", "财产保险股份有限公司", "保险经纪有限公司"), "91",
             (0.1, 0.2, 0.3, 0.25, 0.15)),
    Industry("securities", "证券", ("金融", "证券基金", "Securities"), 4,
             ("证券股份有限公司", "基金管理有限公司", "期货有限公司"), "91",
             (0.1, 0.25, 0.35, 0.2, 0.1)),
    Industry("energy", "能源", ("电力", "能源电力", "Energy"), 7,
             ("能源集团有限公司", "电力有限公司", "新能源科技股份有限公司", "石化有限公司"), "91",
             (0.05, 0.2, 0.3, 0.25, 0.2)),
    Industry("manufacturing", "制造", ("智能制造", "制造业", "Manufacturing"), 18,
             ("精密制造有限公司", "汽车零部件股份有限公司", "机械设备有限公司", "电子科技有限公司",
              "智能装备股份有限公司"), "91", (0.25, 0.35, 0.25, 0.1, 0.05)),
    Industry("retail", "零售", ("零售快消", "消费品", "Retail"), 9,
             ("商贸有限公司", "连锁超市有限公司", "食品股份有限公司", "电子商务有限公司"), "91",
             (0.3, 0.3, 0.2, 0.12, 0.08)),
    Industry("government", "政府", ("政务", "政府机构", "Government"), 5,
             ("市大数据管理局", "市人力资源和社会保障局", "市税务局", "市政务服务中心",
              "市公安局科技信息化处"), "11", (0.2, 0.4, 0.3, 0.1, 0.0)),
    Industry("internet", "互联网", ("IT", "互联网/IT", "Internet"), 14,
             ("网络科技有限公司", "信息技术有限公司", "软件股份有限公司", "数据科技有限公司"), "91",
             (0.35, 0.3, 0.2, 0.1, 0.05)),
    Industry("healthcare", "医疗", ("医疗健康", "医药", "Healthcare"), 7,
             ("医药股份有限公司", "医疗器械有限公司", "健康科技有限公司"), "91",
             (0.25, 0.3, 0.25, 0.15, 0.05)),
    Industry("education", "教育", ("教育培训", "高校", "Education"), 4,
             ("教育科技有限公司", "职业培训学校", "在线教育科技有限公司"), "91",
             (0.4, 0.3, 0.2, 0.1, 0.0)),
    Industry("logistics", "物流", ("交通物流", "供应链", "Logistics"), 5,
             ("物流有限公司", "供应链管理有限公司", "国际货运代理有限公司"), "91",
             (0.3, 0.3, 0.25, 0.1, 0.05)),
    Industry("telecom", "通信", ("运营商", "电信", "Telecom"), 3,
             ("通信技术有限公司", "信息通信股份有限公司"), "91", (0.1, 0.2, 0.3, 0.25, 0.15)),
)  # fmt: skip

# Decision-chain roles, their share among contacts and the titles they put on forms.
ROLES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("cio", 0.07, ("CIO", "首席信息官", "信息中心主任", "IT总监", "信息科技部总经理", "CTO")),
    ("department_head", 0.16, ("数据部负责人", "市场部总监", "运维部经理", "研发中心主任",
                               "数字化转型办公室主任", "业务部总经理")),
    ("project_manager", 0.22, ("项目经理", "高级项目经理", "PMO经理", "产品经理", "IT项目主管")),
    ("engineer", 0.43, ("数据工程师", "高级开发工程师", "架构师", "运维工程师", "DBA",
                        "算法工程师", "测试工程师")),
    ("procurement", 0.12, ("采购经理", "采购专员", "招采中心主任", "供应商管理专员")),
)  # fmt: skip

FREE_MAIL: tuple[tuple[str, float], ...] = (
    ("qq.com", 0.38), ("163.com", 0.22), ("126.com", 0.08), ("foxmail.com", 0.06),
    ("sina.com", 0.05), ("gmail.com", 0.05), ("outlook.com", 0.05), ("hotmail.com", 0.03),
    ("139.com", 0.04), ("aliyun.com", 0.02), ("yeah.net", 0.02),
)  # fmt: skip

EMAIL_DOMAIN_TYPOS: dict[str, str] = {
    "qq.com": "qq.con", "163.com": "163.cm", "126.com": "126.con", "gmail.com": "gmial.com",
    "foxmail.com": "foxmial.com", "outlook.com": "outlok.com", "hotmail.com": "hotmai.com",
    "sina.com": "sina.cn", "139.com": "193.com",
}  # fmt: skip

# Mobile number blocks in use (the first three digits).
MOBILE_PREFIXES: tuple[str, ...] = (
    "130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "150", "151", "152",
    "153", "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "185",
    "186", "187", "188", "189", "191", "198", "199",
)  # fmt: skip

# The vendor's sales reps (name, WeCom userid): the CRM gives each company's contacts the rep of
# its account, which the journeys' notes to the owner go to.
SALES_REPS = (
    ("王磊", "wanglei"),
    ("陈静", "chenjing"),
    ("刘洋", "liuyang"),
    ("赵敏", "zhaomin"),
    ("孙浩", "sunhao"),
    ("周婷", "zhouting"),
)
