# ruff: noqa: E501
"""A labelled set of companies and the ways people write their names.

One row per company: registered name | what people call it | mail domain | typos seen |
aliases an operator attaches (English names, abbreviations the name rules cannot derive).
Confusable neighbours are deliberate: banks of one country, universities of two cities, one
trade name in two industries (长城汽车 / 中国长城, 美的 / 美的置业, 东方航空 / 东方电气), names one
character apart (金蝶 / 金山, 东软 / 中软, 万科 / 万得).
"""

COMPANIES = """
北京星环信息科技有限公司|星环科技|transwarp.io|星环信息科枝有限公司;星环信息技木有限公司|StarRing Technology
中国银行股份有限公司|中国银行|boc.cn||Bank of China
中国建设银行股份有限公司|建设银行|ccb.com||China Construction Bank
中国工商银行股份有限公司|工商银行|icbc.com.cn||
中国农业银行股份有限公司|农业银行|abchina.com||
北京银行股份有限公司|北京银行|bankofbeijing.com.cn||
南京银行股份有限公司|南京银行|njcb.com.cn||
招商银行股份有限公司|招商银行|cmbchina.com||
招商证券股份有限公司|招商证券|cmschina.com.cn||
平安银行股份有限公司|平安银行|bank.pingan.com||
中国平安保险（集团）股份有限公司|中国平安|pingan.com||Ping An Insurance
上海交通大学|上海交通大学|sjtu.edu.cn||
西安交通大学|西安交通大学|xjtu.edu.cn||
北京汽车集团有限公司|北京汽车|baicgroup.com.cn||
上海汽车集团股份有限公司|上海汽车|saicmotor.com||SAIC Motor
京东方科技集团股份有限公司|京东方|boe.com|京东芳科技集团股份有限公司|BOE Technology
北京京东世纪贸易有限公司|京东世纪贸易|jd.com||京东
宁德时代新能源科技股份有限公司|宁德时代|catl.com||CATL
时代中国控股有限公司|时代中国|timesgroup.cn||
华为技术有限公司|华为|huawei.com|华为技木有限公司|Huawei Technologies
华润（集团）有限公司|华润集团|crc.com.hk||
深圳市腾讯计算机系统有限公司|腾讯|tencent.com|深圳市腾讯计算机系通有限公司|Tencent
阿里巴巴（中国）有限公司|阿里巴巴|alibaba-inc.com|阿里巴巴(中国)有限公可|Alibaba
阿里健康科技（北京）有限公司|阿里健康|alihealth.cn||
北京百度网讯科技有限公司|百度网讯|baidu.com|北京百度网迅科技有限公司|百度
科大讯飞股份有限公司|科大讯飞|iflytek.com|科大迅飞股份有限公司;科大讯飞股分有限公司|iFLYTEK
杭州海康威视数字技术股份有限公司|海康威视|hikvision.com|杭州海康微视数字技术股份有限公司|Hikvision
浙江大华技术股份有限公司|大华股份|dahuatech.com||
用友网络科技股份有限公司|用友网络|yonyou.com|用友网络科技股分有限公司|Yonyou
金蝶软件（中国）有限公司|金蝶|kingdee.com||Kingdee
珠海金山办公软件有限公司|金山办公|wps.cn||
浪潮电子信息产业股份有限公司|浪潮信息|inspur.com||
中兴通讯股份有限公司|中兴通讯|zte.com.cn|中兴通迅股份有限公司|ZTE
中国移动通信集团有限公司|中国移动|chinamobile.com||China Mobile
中国联合网络通信集团有限公司|联合网络通信|chinaunicom.cn||中国联通
中国电信集团有限公司|中国电信|chinatelecom.com.cn||
美的集团股份有限公司|美的集团|midea.com||Midea
美的置业集团有限公司|美的置业|mideadc.com||
海尔集团公司|海尔|haier.com||Haier
海信集团有限公司|海信|hisense.com||
三一重工股份有限公司|三一重工|sany.com.cn|三一重公股份有限公司|SANY
中联重科股份有限公司|中联重科|zoomlion.com||
比亚迪股份有限公司|比亚迪|byd.com|比亚笛股份有限公司|BYD
长城汽车股份有限公司|长城汽车|gwm.com.cn||
中国长城科技集团股份有限公司|中国长城|greatwall.com.cn||
小米科技有限责任公司|小米科技|xiaomi.com|小米科枝有限责任公司|Xiaomi
北京字节跳动科技有限公司|字节跳动|bytedance.com|北京字节眺动科技有限公司|ByteDance
网易（杭州）网络有限公司|网易|corp.netease.com||
新浪网技术（中国）有限公司|新浪网|staff.sina.com.cn||
携程计算机技术（上海）有限公司|携程|trip.com||Trip.com
上海拉扎斯信息科技有限公司|拉扎斯|ele.me||饿了么
北京三快在线科技有限公司|三快在线|meituan.com||美团
顺丰速运有限公司|顺丰速运|sf-express.com|顺风速运有限公司|SF Express
中国国际航空股份有限公司|中国国际航空|airchina.com||国航
中国东方航空股份有限公司|东方航空|ceair.com||
中国南方航空股份有限公司|南方航空|csair.com||
上海电气集团股份有限公司|上海电气|shanghai-electric.com||
东方电气股份有限公司|东方电气|dongfang.com||
中信银行股份有限公司|中信银行|citicbank.com||
中信证券股份有限公司|中信证券|citics.com||
华夏银行股份有限公司|华夏银行|hxb.com.cn||
华夏基金管理有限公司|华夏基金|chinaamc.com||
国泰君安证券股份有限公司|国泰君安|gtja.com|国泰军安证券股份有限公司|
光大证券股份有限公司|光大证券|ebscn.com||
中国光大银行股份有限公司|光大银行|cebbank.com||
万科企业股份有限公司|万科|vanke.com||Vanke
碧桂园控股有限公司|碧桂园|countrygarden.com.cn|碧桂圆控股有限公司|
大连万达集团股份有限公司|大连万达|wanda.cn||万达集团
中国石油化工集团有限公司|中国石油化工|sinopec.com||中国石化
中国石油天然气集团有限公司|中国石油|cnpc.com.cn||
国家电网有限公司|国家电网|sgcc.com.cn||
中国南方电网有限责任公司|南方电网|csg.cn||
联想（北京）有限公司|联想|lenovo.com||Lenovo
戴尔（中国）有限公司|戴尔|dell.com||Dell
微软（中国）有限公司|微软|microsoft.com||Microsoft
甲骨文（中国）软件系统有限公司|甲骨文|oracle.com||Oracle
思爱普（北京）软件系统有限公司|思爱普|sap.com||SAP
国际商业机器（中国）有限公司|国际商业机器|ibm.com||IBM
西门子（中国）有限公司|西门子|siemens.com||Siemens
施耐德电气（中国）有限公司|施耐德电气|schneider-electric.com|施奈德电气（中国）有限公司|
霍尼韦尔（中国）有限公司|霍尼韦尔|honeywell.com||Honeywell
北京金山云网络技术有限公司|金山云|ksyun.com||
杭州安恒信息技术股份有限公司|安恒信息|dbappsecurity.com.cn||
奇安信科技集团股份有限公司|奇安信|qianxin.com|奇安信科技集团股份有限公|
深信服科技股份有限公司|深信服|sangfor.com.cn|深信服科技股分有限公司|Sangfor
北京神州泰岳软件股份有限公司|神州泰岳|ultrapower.com.cn||
神州数码集团股份有限公司|神州数码|digitalchina.com||
东软集团股份有限公司|东软|neusoft.com||Neusoft
中软国际有限公司|中软国际|chinasofti.com||
软通动力信息技术（集团）股份有限公司|软通动力|isoftstone.com||
上海宝信软件股份有限公司|宝信软件|baosight.com||
宝山钢铁股份有限公司|宝山钢铁|baosteel.com||宝钢
北京四维图新科技股份有限公司|四维图新|navinfo.com||
万得信息技术股份有限公司|万得|wind.com.cn||
浙江核新同花顺网络信息股份有限公司|核新同花顺|10jqka.com.cn||同花顺
东方财富信息股份有限公司|东方财富|eastmoney.com|东方才富信息股份有限公司|
"""


def companies() -> list[tuple[str, str, str, list[str], list[str]]]:
    """(registered, short, domain, typos, aliases) per company, in file order."""
    rows = []
    for line in COMPANIES.strip().splitlines():
        registered, short, domain, typos, aliases = line.split("|")
        rows.append(
            (
                registered,
                short,
                domain,
                [t for t in typos.split(";") if t],
                [a for a in aliases.split(";") if a],
            )
        )
    return rows
