//! How each leaf category of the catalog behaves in the demo: its yearly volume, its season, who
//! finds it (citizens, grid inspectors, sensors), what kind of request it usually is, where it
//! happens, and what people say about it.
//!
//! Only categories of the catalog appear here (a test checks every code); the weights are relative
//! yearly counts for a district of Dongcheng's size (they add up to about 20,000).

/// How a category's volume moves over the year (see `volume::season_factor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Season {
    /// The same all year.
    Flat,
    /// Heating season, peak in the first cold weeks (mid-November to December).
    Heating,
    /// Heating fees and 报停: October–November.
    HeatingFee,
    /// Summer (June–August) high, winter low.
    Summer,
    /// Rainy season (七下八上: late July, early August), with storm days.
    Rain,
    /// Trees: summer growth and storms.
    Trees,
    /// Poplar and willow catkins (飞絮), mid-April to mid-May.
    Catkin,
    /// Construction: spring and autumn, quiet around the Spring Festival.
    Construction,
    /// Snow days only (December–February).
    Snow,
    /// Winter in general (cold, dark evenings, frozen pipes).
    Winter,
    /// Before the Spring Festival (wage arrears): December–January.
    YearEnd,
    /// School enrolment: April–June and late August.
    Enrolment,
}

/// Which kinds of request a category brings (weights for 咨询, 求助, 投诉, 举报, 建议).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Kinds(pub [f64; 5]);

/// Mostly complaints.
pub(crate) const COMPLAIN: Kinds = Kinds([0.0, 0.05, 0.87, 0.04, 0.04]);
/// Reports of wrongdoing.
pub(crate) const REPORT: Kinds = Kinds([0.0, 0.0, 0.4, 0.58, 0.02]);
/// Calls for help.
pub(crate) const HELP: Kinds = Kinds([0.0, 0.72, 0.28, 0.0, 0.0]);
/// Questions.
pub(crate) const ASK: Kinds = Kinds([0.9, 0.1, 0.0, 0.0, 0.0]);
/// Suggestions (and praise).
pub(crate) const SUGGEST: Kinds = Kinds([0.0, 0.0, 0.12, 0.0, 0.88]);

/// Where it happens, which shapes the location written into the text and the address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum At {
    /// A residential building (…号院…号楼).
    Home,
    /// On a road, at a crossing or a gate.
    Road,
    /// In a hutong or lane.
    Hutong,
    /// Near a landmark.
    Landmark,
    /// At a shop or business.
    Shop,
    /// Not tied to a place (questions about policies, disputes with employers).
    Nowhere,
}

/// One category's behaviour.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Profile {
    /// Leaf category code.
    pub code: &'static str,
    /// Relative yearly volume.
    pub weight: f64,
    /// Seasonal shape.
    pub season: Season,
    /// Share found on patrol by grid inspectors (主动监管).
    pub grid: f64,
    /// Kinds of request.
    pub kinds: Kinds,
    /// Where.
    pub at: At,
    /// What people say: the problem (or the question), after the location. May use `{c}`
    /// (community), `{w}` (road or hutong) and `{l}` (landmark).
    pub texts: &'static [&'static str],
}

const fn p(
    code: &'static str,
    weight: f64,
    season: Season,
    grid: f64,
    kinds: Kinds,
    at: At,
    texts: &'static [&'static str],
) -> Profile {
    Profile { code, weight, season, grid, kinds, at, texts }
}

use At::*;
use Season::*;

/// Every category the demo files cases under.
pub(crate) const PROFILES: &[Profile] = &[
    // 城市管理
    p(
        "0101",
        700.0,
        Flat,
        0.5,
        COMPLAIN,
        Road,
        &["有流动商贩占道摆摊卖水果", "商户长期店外经营，货物摆到人行道上", "晚上有游商占道卖烧烤小吃"],
    ),
    p(
        "0102",
        350.0,
        Construction,
        0.3,
        REPORT,
        Hutong,
        &["有住户在院内私搭乱建，加盖了一间彩钢房", "有人在平房屋顶违法加盖二层", "院内有人圈占公共空间搭建棚子"],
    ),
    p(
        "0103",
        120.0,
        Flat,
        0.4,
        COMPLAIN,
        Road,
        &["商铺门头牌匾松动，刮风时摇晃", "路边违规悬挂大幅横幅广告", "楼顶广告灯箱破损，有坠落危险"],
    ),
    p(
        "0104",
        300.0,
        Flat,
        0.4,
        COMPLAIN,
        Road,
        &["人行道步道砖松动破损，雨天踩上去溅水", "路面出现大坑，车辆经过颠簸", "路边护栏被撞坏一直没有修复"],
    ),
    p(
        "0105",
        80.0,
        Flat,
        0.35,
        HELP,
        Road,
        &["一处井盖缺失，只用树枝挡着", "井盖破损塌陷，行人容易掉进去", "井盖松动，车辆经过哐哐响"],
    ),
    p(
        "0106",
        220.0,
        Winter,
        0.3,
        COMPLAIN,
        Hutong,
        &["路灯连续多天不亮，晚上一片漆黑", "几盏路灯白天亮晚上不亮", "路灯灯杆倾斜，灯罩脱落"],
    ),
    p(
        "0107",
        120.0,
        Flat,
        0.2,
        REPORT,
        Hutong,
        &["有商户私自开墙打洞破墙开店", "临街住户把窗户改成了门开店", "有人拆改承重墙体开门"],
    ),
    p(
        "0108",
        100.0,
        Flat,
        0.4,
        COMPLAIN,
        Hutong,
        &["架空线缆杂乱下垂，快碰到行人头顶", "废弃线缆缠在树上无人清理", "电线杆上线缆脱落耷拉到地面"],
    ),
    p(
        "0109",
        200.0,
        Construction,
        0.2,
        COMPLAIN,
        Road,
        &["工地围挡破损，扬尘很大", "施工工地渣土未苫盖，刮风尘土飞扬", "工地车辆出入不冲洗，路面全是泥"],
    ),
    p(
        "0110",
        60.0,
        Flat,
        0.2,
        REPORT,
        Home,
        &["楼下地下室有人群租住人", "地下空间被改成仓库堆放大量杂物", "人防工程里有人违规经营"],
    ),
    // 市容环卫
    p(
        "0201",
        500.0,
        Summer,
        0.3,
        COMPLAIN,
        Hutong,
        &["垃圾桶满了好几天没人清运", "垃圾堆在路边无人清理，气味很大", "垃圾清运车每天清晨作业噪音大还遗撒"],
    ),
    p(
        "0202",
        150.0,
        Flat,
        0.3,
        COMPLAIN,
        Home,
        &["桶站没有人值守，垃圾混投严重", "厨余垃圾桶破损一直没有更换", "小区垃圾分类桶站设置位置紧挨住户窗户"],
    ),
    p(
        "0203",
        350.0,
        Flat,
        0.3,
        COMPLAIN,
        Home,
        &["楼道里堆满杂物和纸箱，影响通行", "邻居长期在楼道堆放旧家具", "楼道内停放电动车并堆放杂物"],
    ),
    p(
        "0204",
        350.0,
        Summer,
        0.4,
        COMPLAIN,
        Road,
        &["路边卫生很差，烟头纸屑很多没人清扫", "绿化带里扔满了垃圾", "公交站台周边脏乱，保洁不到位"],
    ),
    p(
        "0205",
        180.0,
        Summer,
        0.3,
        COMPLAIN,
        Hutong,
        &["胡同公厕卫生很差，气味难闻", "公共厕所冲水设备坏了好几天", "公厕晚上不开门，居民如厕不便"],
    ),
    p(
        "0206",
        180.0,
        Flat,
        0.6,
        COMPLAIN,
        Hutong,
        &["墙上贴满了小广告", "有人在墙面喷涂办证电话", "电线杆和配电箱上小广告清了又贴"],
    ),
    p(
        "0207",
        80.0,
        Construction,
        0.4,
        COMPLAIN,
        Road,
        &["渣土车夜间通行遗撒，路面全是泥土", "运输车辆撒漏砂石", "夜间有渣土车遗撒并超速行驶"],
    ),
    p(
        "0208",
        200.0,
        Flat,
        0.4,
        COMPLAIN,
        Home,
        &["楼下堆放大量装修垃圾多日未清运", "有人把旧沙发床垫扔在院门口", "建筑垃圾堆在胡同口占用通道"],
    ),
    p(
        "0209",
        150.0,
        Snow,
        0.3,
        COMPLAIN,
        Hutong,
        &["下雪后路面结冰没有人清扫，老人出行摔倒", "积雪堆在胡同里没有清运", "台阶和坡道结冰很滑，请求撒融雪剂"],
    ),
    p(
        "0210",
        150.0,
        Summer,
        0.2,
        COMPLAIN,
        Home,
        &["院里老鼠很多，晚上到处乱窜", "楼道蟑螂成灾，请求消杀", "附近积水招蚊虫，希望消杀"],
    ),
    p(
        "0211",
        250.0,
        Flat,
        0.3,
        COMPLAIN,
        Hutong,
        &["胡同里乱堆乱放，环境脏乱", "胡同内私装地锁占用公共空间", "胡同里废弃自行车长期堆放"],
    ),
    // 住房物业
    p(
        "0301",
        900.0,
        Flat,
        0.0,
        COMPLAIN,
        Home,
        &["物业公司不作为，楼道灯坏了一个月不修", "物业保洁不到位，小区垃圾遍地", "物业收费后服务跟不上，门禁长期损坏"],
    ),
    p(
        "0302",
        200.0,
        Flat,
        0.0,
        COMPLAIN,
        Home,
        &["老旧小区没有物业，下水和路灯坏了无人管", "楼院没有物业管理，外来车辆随意停放", "自管小区没人打扫卫生"],
    ),
    p(
        "0303",
        300.0,
        Rain,
        0.0,
        HELP,
        Home,
        &["下雨时顶层房屋漏雨严重，屋里放了好几个盆接水", "外墙渗水，屋内墙皮大面积脱落", "平房房顶漏雨，担心房屋安全"],
    ),
    p(
        "0304",
        60.0,
        Rain,
        0.1,
        HELP,
        Hutong,
        &["院内老房子墙体开裂越来越大", "平房房梁下沉，担心倒塌", "楼房外墙出现明显裂缝"],
    ),
    p(
        "0305",
        40.0,
        Flat,
        0.0,
        HELP,
        Home,
        &["电梯困人，家里老人被困在电梯里", "有人被困电梯，物业电话打不通", "电梯突然停在两层之间，里面有人"],
    ),
    p(
        "0306",
        250.0,
        Flat,
        0.0,
        COMPLAIN,
        Home,
        &["电梯经常故障停运，老人上下楼困难", "电梯运行时异响抖动，担心安全", "电梯维保不到位，一个月坏了三次"],
    ),
    p(
        "0307",
        250.0,
        Construction,
        0.0,
        SUGGEST,
        Home,
        &["希望尽快纳入老旧小区综合整治", "楼里老人多，建议加装电梯", "老旧小区改造施工进度慢，影响出行"],
    ),
    p(
        "0308",
        200.0,
        Flat,
        0.1,
        REPORT,
        Home,
        &["楼里有群租房，住了十几个人", "中介公司扣押租房押金不退", "房东违规分隔出租，存在消防隐患"],
    ),
    p(
        "0309",
        80.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["房产证办理需要哪些材料，去哪里办理？", "继承房产过户的流程是什么？", "购房多年一直办不下不动产证，怎么办？"],
    ),
    p(
        "0310",
        250.0,
        Rain,
        0.0,
        COMPLAIN,
        Hutong,
        &["直管公房房屋老化，报修后房管所迟迟不来", "公房屋顶漏雨，申请修缮没有答复", "公房租金调整后不清楚标准"],
    ),
    p(
        "0311",
        100.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["公租房申请审核进度怎么查询？", "共有产权房的申请条件是什么？", "保障房配租排到什么时候了？"],
    ),
    p(
        "0312",
        150.0,
        Flat,
        0.0,
        COMPLAIN,
        Home,
        &["业委会和物业公司纠纷，维修资金使用不透明", "新旧物业交接不顺，小区无人管理", "业主大会筹备迟迟没有进展"],
    ),
    p(
        "0313",
        80.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["申请式退租的补偿标准是什么？", "腾退安置房什么时候能交付？", "平房征收补偿款一直没有发放，想了解进度"],
    ),
    // 供暖
    p(
        "0401",
        1400.0,
        Heating,
        0.0,
        COMPLAIN,
        Home,
        &["暖气不热，室温只有十五六度", "家里暖气上热下凉，老人孩子冻得感冒", "楼里好几户暖气都不热，室温不达标"],
    ),
    p(
        "0402",
        400.0,
        Heating,
        0.0,
        COMPLAIN,
        Home,
        &["已经到供暖日期了家里还没有来暖气", "整栋楼停暖，没有接到任何通知", "缴了采暖费还是不供暖"],
    ),
    p(
        "0403",
        120.0,
        Heating,
        0.0,
        HELP,
        Home,
        &["暖气片突然漏水，水流到楼下邻居家", "暖气管爆了，屋里全是水", "楼道里暖气管跑水"],
    ),
    p(
        "0404",
        200.0,
        HeatingFee,
        0.0,
        ASK,
        Nowhere,
        &["今年采暖费的缴费时间和标准是什么？", "房子没人住，想办理供暖报停，需要什么手续？", "采暖费发票怎么开？"],
    ),
    p(
        "0405",
        80.0,
        Heating,
        0.0,
        ASK,
        Hutong,
        &["平房煤改电采暖补贴什么时候发放？", "蓄能电暖器坏了找谁维修？", "煤改电后谷电时段电价怎么计算？"],
    ),
    // 供水
    p(
        "0501",
        300.0,
        Summer,
        0.0,
        HELP,
        Home,
        &["家里突然停水，没有接到通知", "整栋楼停水一天了还没来水", "院里水管停水，做饭都成问题"],
    ),
    p(
        "0502",
        150.0,
        Summer,
        0.0,
        COMPLAIN,
        Home,
        &["高层水压低，用水高峰时上不去水", "水流很小，热水器都打不着", "每天早晚水压不足"],
    ),
    p(
        "0503",
        80.0,
        Flat,
        0.0,
        COMPLAIN,
        Home,
        &["自来水发黄浑浊，有异味", "水里有很多水垢和杂质", "放出来的水是白色的，担心水质"],
    ),
    p(
        "0504",
        60.0,
        Winter,
        0.0,
        HELP,
        Road,
        &["路边供水管道爆裂，水漫到路面上", "院里水管冻裂跑水", "地下水管破裂，水往外冒"],
    ),
    p(
        "0505",
        100.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["水费突然比平时高很多，想核实水表读数", "阶梯水价怎么计算？", "水费在哪里缴纳？"],
    ),
    p(
        "0506",
        60.0,
        Summer,
        0.0,
        COMPLAIN,
        Home,
        &["二次供水水箱多年没有清洗", "加压泵噪音很大影响休息", "二次供水设备故障导致高层没水"],
    ),
    // 供电
    p(
        "0601",
        300.0,
        Summer,
        0.0,
        HELP,
        Home,
        &["家里突然停电，整栋楼都没电", "天热用电高峰频繁跳闸停电", "院里停电大半天了还没来电"],
    ),
    p(
        "0602",
        80.0,
        Summer,
        0.0,
        COMPLAIN,
        Home,
        &["电压不稳，家里灯一闪一闪的", "电压低，空调开不起来", "晚上电压忽高忽低烧坏了电器"],
    ),
    p(
        "0603",
        50.0,
        Summer,
        0.1,
        HELP,
        Hutong,
        &["电线杆倾斜，电线垂到很低", "配电箱冒火花，有焦糊味", "变压器附近有漏电声响"],
    ),
    p(
        "0604",
        80.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["预付费电表怎么充值？", "电费比上个月多了一倍，想核实电表", "峰谷电价怎么申请？"],
    ),
    p(
        "0605",
        200.0,
        Flat,
        0.35,
        COMPLAIN,
        Home,
        &["有人从楼上私拉电线给电动车充电", "小区没有充电桩，居民只能飞线充电", "电动车在楼道里充电，存在火灾隐患"],
    ),
    // 燃气
    p(
        "0701",
        50.0,
        Winter,
        0.0,
        HELP,
        Home,
        &["楼道里有很浓的燃气味", "厨房闻到煤气味，怀疑漏气", "院里天然气管道附近有燃气味"],
    ),
    p(
        "0702",
        60.0,
        Winter,
        0.0,
        HELP,
        Home,
        &["家里突然停气，做不了饭", "燃气灶打不着火，楼里好几户都没气", "燃气中断一天了没有通知"],
    ),
    p(
        "0703",
        120.0,
        Winter,
        0.0,
        COMPLAIN,
        Home,
        &["燃气表坏了报修一直没人来", "燃气报警器总是误报", "燃气管道老化需要更换"],
    ),
    p(
        "0704",
        60.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["燃气卡怎么充值？", "新房燃气开户需要哪些材料？", "燃气费缴费后表里没显示"],
    ),
    p(
        "0705",
        40.0,
        Winter,
        0.2,
        REPORT,
        Shop,
        &["有餐馆违规使用液化气罐", "有人非法销售瓶装液化气", "居民楼里存放多个煤气罐"],
    ),
    // 排水
    p(
        "0801",
        200.0,
        Rain,
        0.2,
        COMPLAIN,
        Road,
        &["污水井冒水，污水流到路面上", "下水道返水，臭味很大", "雨后污水外溢到院子里"],
    ),
    p(
        "0802",
        300.0,
        Flat,
        0.1,
        HELP,
        Home,
        &["楼下下水道堵塞，污水倒灌进屋", "院里下水不通好几天了", "胡同下水道堵了，污水流不下去"],
    ),
    p(
        "0803",
        150.0,
        Rain,
        0.1,
        HELP,
        Road,
        &["暴雨后路面积水没过膝盖", "雨水倒灌进屋，屋里进水了", "桥下积水严重，车辆无法通行"],
    ),
    p(
        "0804",
        100.0,
        Summer,
        0.1,
        COMPLAIN,
        Hutong,
        &["院里化粪池满了往外冒", "化粪池很久没有清掏，气味很大", "公厕化粪池外溢"],
    ),
    p(
        "0805",
        80.0,
        Rain,
        0.3,
        COMPLAIN,
        Road,
        &["雨水篦子被垃圾堵住，一下雨就积水", "雨水口盖板缺失", "路边排水口损坏"],
    ),
    // 噪声扰民
    p(
        "0901",
        600.0,
        Construction,
        0.1,
        COMPLAIN,
        Road,
        &["工地夜间施工噪音很大，凌晨还在作业", "附近工地每天早上六点就开始施工", "施工噪声扰民，严重影响休息"],
    ),
    p(
        "0902",
        900.0,
        Summer,
        0.0,
        COMPLAIN,
        Home,
        &["楼下广场舞音响声音太大", "邻居家装修噪音扰民，周末一大早就开始", "楼上邻居晚上经常大声喧哗"],
    ),
    p(
        "0903",
        300.0,
        Summer,
        0.1,
        COMPLAIN,
        Shop,
        &["酒吧夜里音乐声很大，影响周边居民休息", "商铺门口用高音喇叭叫卖", "餐馆夜间经营噪音扰民"],
    ),
    p(
        "0904",
        100.0,
        Summer,
        0.0,
        COMPLAIN,
        Road,
        &["深夜有改装车炸街，声音很大", "摩托车夜间轰油门扰民", "车辆频繁鸣笛"],
    ),
    p(
        "0905",
        150.0,
        Summer,
        0.0,
        COMPLAIN,
        Shop,
        &["商户空调外机正对居民窗户，噪音很大", "楼顶冷却塔昼夜运行噪音扰民", "饭店排风机噪音很大"],
    ),
    // 交通出行
    p(
        "1001",
        1100.0,
        Flat,
        0.2,
        COMPLAIN,
        Road,
        &["有车辆长期违停堵住胡同口", "车辆停在消防通道上", "路边违法停车严重，早晚高峰拥堵"],
    ),
    p(
        "1002",
        300.0,
        Flat,
        0.0,
        COMPLAIN,
        Road,
        &["居住停车证办理很麻烦，车位不够用", "路侧电子收费停车收费不合理", "小区周边停车难，希望增加车位"],
    ),
    p(
        "1003",
        100.0,
        Flat,
        0.0,
        SUGGEST,
        Landmark,
        &["建议增加公交车班次，早高峰等车太久", "公交站台太窄，建议改造", "建议调整公交线路，方便居民就医"],
    ),
    p(
        "1004",
        60.0,
        Flat,
        0.0,
        SUGGEST,
        Landmark,
        &["地铁站出入口太少，建议增开出口", "地铁站无障碍电梯经常停用", "建议地铁站增加共享单车停放区"],
    ),
    p(
        "1005",
        120.0,
        Flat,
        0.0,
        COMPLAIN,
        Landmark,
        &["出租车司机拒载", "网约车绕路多收费", "出租车在景区门口揽客不打表"],
    ),
    p(
        "1006",
        100.0,
        Flat,
        0.0,
        SUGGEST,
        Road,
        &["路口红绿灯时间太短，老人过马路来不及", "交通标线磨损看不清", "建议在学校门口增设斑马线"],
    ),
    p(
        "1007",
        120.0,
        Flat,
        0.0,
        COMPLAIN,
        Landmark,
        &["早晚高峰拥堵严重，希望加强疏导", "景区周边车辆加塞严重", "路口交通秩序混乱"],
    ),
    p(
        "1008",
        120.0,
        Construction,
        0.1,
        COMPLAIN,
        Road,
        &["道路开挖后长期没有恢复", "占道施工围挡占用大半条路", "施工占道没有公示施工期限"],
    ),
    p(
        "1009",
        250.0,
        Flat,
        0.3,
        COMPLAIN,
        Landmark,
        &["共享单车乱停乱放，堵住人行道", "地铁口共享单车堆积如山", "共享单车停在盲道上"],
    ),
    // 市场监管
    p(
        "1101",
        250.0,
        Summer,
        0.0,
        COMPLAIN,
        Shop,
        &["在附近餐馆吃饭后腹泻", "超市售卖过期食品", "早餐店后厨卫生条件很差"],
    ),
    p(
        "1102",
        600.0,
        Flat,
        0.0,
        COMPLAIN,
        Shop,
        &["商家拒绝退货退款", "网购商品质量问题商家不处理", "健身房合同存在霸王条款"],
    ),
    p(
        "1103",
        250.0,
        Flat,
        0.0,
        COMPLAIN,
        Shop,
        &["办了美发店的预付卡，现在店关门跑路了", "游泳馆预付卡余额无法退还", "教育机构预付费课程停课不退费"],
    ),
    p("1104", 150.0, Flat, 0.0, COMPLAIN, Shop, &["商铺没有明码标价", "景区周边商店价格欺诈", "停车场乱收费"]),
    p(
        "1105",
        120.0,
        Flat,
        0.2,
        REPORT,
        Shop,
        &["有一家店没有营业执照在经营", "小饭馆无证经营", "居民楼里有人开黑作坊"],
    ),
    p("1106", 100.0, Flat, 0.0, COMPLAIN, Shop, &["买到假冒伪劣商品", "新买的电器质量有问题", "商家以次充好"]),
    p(
        "1107",
        60.0,
        Flat,
        0.0,
        COMPLAIN,
        Shop,
        &["药店销售处方药不要处方", "保健品店向老人虚假宣传", "药店售卖过期药品"],
    ),
    // 生态环境
    p(
        "1201",
        450.0,
        Summer,
        0.1,
        COMPLAIN,
        Shop,
        &["餐馆油烟直排，窗户都不敢开", "饭店烟道油烟味很大，熏到楼上住户", "烧烤店油烟扰民"],
    ),
    p("1202", 80.0, Winter, 0.0, COMPLAIN, Road, &["附近有刺鼻异味", "有单位锅炉冒黑烟", "汽修店喷漆异味很大"]),
    p(
        "1203",
        30.0,
        Summer,
        0.1,
        COMPLAIN,
        Landmark,
        &["护城河水面有垃圾漂浮，河水发臭", "有人向河道排污", "河边有污水排入"],
    ),
    p(
        "1204",
        120.0,
        Summer,
        0.4,
        COMPLAIN,
        Road,
        &["晚上有人露天烧烤，烟熏火燎", "有人在路边焚烧垃圾", "夜市露天烧烤烟雾很大"],
    ),
    p(
        "1205",
        40.0,
        Flat,
        0.0,
        COMPLAIN,
        Home,
        &["楼顶新装了通信基站，担心辐射", "小区附近信号塔辐射问题", "希望检测家附近基站的电磁辐射"],
    ),
    p("1206", 20.0, Flat, 0.2, REPORT, Shop, &["诊所医疗废物随意丢弃", "汽修店废机油乱倒", "有人乱倒化学品"]),
    // 劳动和社会保障
    p(
        "1301",
        300.0,
        YearEnd,
        0.0,
        COMPLAIN,
        Nowhere,
        &["公司拖欠工资三个月不发", "在{l}附近一家餐馆打工，老板拖欠工资", "装修公司拖欠农民工工资"],
    ),
    p(
        "1302",
        200.0,
        Flat,
        0.0,
        COMPLAIN,
        Nowhere,
        &["公司违法辞退不给经济补偿", "单位不签劳动合同", "公司强制加班不给加班费"],
    ),
    p(
        "1303",
        250.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["单位没有给缴纳社保怎么办？", "社保卡丢了怎么补办？", "灵活就业人员怎么缴纳养老保险？"],
    ),
    p(
        "1304",
        250.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["异地就医怎么备案报销？", "门诊报销比例是多少？", "医保卡在药店不能用，怎么回事？"],
    ),
    p(
        "1305",
        80.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["失业登记在哪里办理？", "有没有免费的职业技能培训？", "社区有哪些公益性岗位？"],
    ),
    p(
        "1306",
        120.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["退休手续怎么办理，需要哪些材料？", "养老金调整什么时候到账？", "退休待遇核定有疑问"],
    ),
    // 教育
    p(
        "1401",
        250.0,
        Enrolment,
        0.0,
        ASK,
        Nowhere,
        &[
            "孩子明年幼升小，户籍在{c}，学区怎么划片？",
            "小升初登记入学的时间是什么时候？",
            "非京籍子女入学需要哪些材料？",
        ],
    ),
    p(
        "1402",
        120.0,
        Flat,
        0.0,
        COMPLAIN,
        Landmark,
        &["学校门口上下学时段交通混乱", "学校午餐质量差", "学校放学时间太早家长接不了"],
    ),
    p(
        "1403",
        100.0,
        Flat,
        0.0,
        COMPLAIN,
        Shop,
        &["校外培训机构违规开课", "培训机构停课不退费", "培训机构在居民楼里办班"],
    ),
    p(
        "1404",
        80.0,
        Enrolment,
        0.0,
        ASK,
        Nowhere,
        &["附近普惠性幼儿园学位不够怎么办？", "托育机构收费标准是什么？", "幼儿园入园报名什么时候开始？"],
    ),
    p("1405", 40.0, Flat, 0.0, COMPLAIN, Nowhere, &["学校收取额外资料费", "学校餐费收费不透明", "课后服务收费有疑问"]),
    // 卫生健康
    p(
        "1501",
        250.0,
        Winter,
        0.0,
        COMPLAIN,
        Landmark,
        &["医院挂号难，号源很快就没了", "社区卫生服务中心医生态度差", "医院排队时间太长"],
    ),
    p(
        "1502",
        60.0,
        Flat,
        0.0,
        COMPLAIN,
        Nowhere,
        &["家人在医院治疗后病情加重，怀疑误诊", "医疗纠纷协商不成，不知道怎么处理", "手术后出现并发症要求医院给说法"],
    ),
    p(
        "1503",
        80.0,
        Winter,
        0.0,
        ASK,
        Nowhere,
        &["社区卫生服务中心什么时候能打流感疫苗？", "孩子疫苗接种怎么预约？", "老年人免费体检在哪里做？"],
    ),
    p("1504", 30.0, Flat, 0.0, REPORT, Shop, &["有人在居民楼里非法行医", "美容店违规做医美项目", "黑诊所给人输液"]),
    p("1505", 60.0, Flat, 0.0, COMPLAIN, Shop, &["餐馆里有人吸烟没人管", "写字楼楼道里有人抽烟", "网吧内吸烟严重"]),
    p(
        "1506",
        60.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["生育津贴怎么申领？", "出生医学证明怎么办理？", "独生子女父母奖励怎么申请？"],
    ),
    // 公共安全
    p(
        "1601",
        250.0,
        Winter,
        0.2,
        HELP,
        Hutong,
        &["消防通道被杂物和车辆堵住", "院内私搭电线，有火灾隐患", "胡同里堆放大量易燃物"],
    ),
    p("1602", 150.0, Flat, 0.0, REPORT, Road, &["附近有可疑人员夜间徘徊", "自行车电瓶经常被盗", "晚上有人聚众打架"]),
    p("1603", 60.0, Flat, 0.1, REPORT, Shop, &["商户违规存放危险品", "工地违规动火作业", "仓库安全隐患严重"]),
    p(
        "1604",
        80.0,
        Rain,
        0.3,
        HELP,
        Home,
        &["楼上空调架松动，随时可能掉下来", "外墙瓷砖脱落，险些砸到行人", "阳台悬挂物有坠落危险"],
    ),
    p(
        "1605",
        100.0,
        Flat,
        0.0,
        REPORT,
        Nowhere,
        &["接到冒充公检法的诈骗电话", "老人被保健品推销骗了钱", "网上刷单被骗"],
    ),
    p("1606", 120.0, Flat, 0.0, ASK, Nowhere, &["孩子落户需要哪些材料？", "身份证丢了怎么补办？", "居住证怎么办理？"]),
    p(
        "1607",
        150.0,
        Summer,
        0.1,
        COMPLAIN,
        Home,
        &["邻居遛狗不拴绳，吓到孩子", "有人家的狗整夜叫", "狗在院里随地大小便没人清理"],
    ),
    p(
        "1608",
        200.0,
        Flat,
        0.0,
        HELP,
        Home,
        &["和邻居因为漏水问题发生纠纷，请求调解", "院内邻里因公共空间使用产生矛盾", "楼上楼下因噪音问题多次争吵"],
    ),
    p(
        "1609",
        60.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["想申请法律援助，需要什么条件？", "遗嘱公证怎么办理？", "哪里可以免费咨询律师？"],
    ),
    // 园林绿化
    p(
        "1701",
        300.0,
        Trees,
        0.3,
        COMPLAIN,
        Hutong,
        &["树枝太长遮挡窗户，屋里常年见不到阳光", "树枝碰到电线，刮风时很危险", "行道树遮挡路灯和交通标志"],
    ),
    p(
        "1702",
        100.0,
        Rain,
        0.2,
        HELP,
        Road,
        &["大风后一棵大树倒伏，压住了路边车辆", "院里有棵枯树随时可能倒", "树上的断枝挂在半空中"],
    ),
    p("1703", 100.0, Trees, 0.3, COMPLAIN, Road, &["绿地被人占用种菜", "绿化带里的草坪被踩秃了", "有人毁绿停车"]),
    p(
        "1704",
        120.0,
        Trees,
        0.0,
        SUGGEST,
        Landmark,
        &["公园健身步道破损，建议维修", "公园厕所太少", "建议延长公园开放时间"],
    ),
    p(
        "1705",
        200.0,
        Catkin,
        0.1,
        COMPLAIN,
        Road,
        &["杨柳絮满天飞，过敏很严重", "飞絮堆积在路边，担心起火", "树上有很多虫子，希望打药"],
    ),
    // 文化旅游
    p("1801", 100.0, Summer, 0.0, COMPLAIN, Landmark, &["有黑导游拉客", "旅行社强制购物", "景区周边有人兜售假门票"]),
    p(
        "1802",
        50.0,
        Flat,
        0.0,
        COMPLAIN,
        Shop,
        &["KTV营业到凌晨，噪音扰民", "网吧接纳未成年人", "娱乐场所门口聚集人员喧哗"],
    ),
    p(
        "1803",
        60.0,
        Flat,
        0.1,
        REPORT,
        Hutong,
        &["有人私自拆改四合院，破坏胡同风貌", "文物建筑年久失修", "文保院落内违规装修"],
    ),
    p(
        "1804",
        80.0,
        Flat,
        0.0,
        SUGGEST,
        Home,
        &["小区健身器材损坏，建议更换", "建议增加社区球场开放时间", "希望在附近增设健身设施"],
    ),
    p(
        "1805",
        50.0,
        Flat,
        0.0,
        SUGGEST,
        Landmark,
        &["建议图书馆延长周末开放时间", "希望社区多组织文化活动", "建议增加非遗体验活动"],
    ),
    // 政务服务
    p(
        "1901",
        150.0,
        Flat,
        0.0,
        COMPLAIN,
        Nowhere,
        &["去窗口办事跑了三次还没办成", "办理业务被告知材料不全，但没有一次性告知", "窗口之间互相推诿"],
    ),
    p(
        "1902",
        250.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["办理居住证明需要哪些材料？", "网上预约办事怎么操作？", "营业执照变更的流程是什么？"],
    ),
    p(
        "1903",
        80.0,
        Flat,
        0.0,
        COMPLAIN,
        Nowhere,
        &["窗口工作人员态度很差", "工作人员上班时间玩手机", "办事人员不作为"],
    ),
    p(
        "1904",
        80.0,
        Flat,
        0.0,
        COMPLAIN,
        Nowhere,
        &["企业政策补贴迟迟不兑现", "企业希望协调办公用房问题", "企业诉求反映多次没有回应"],
    ),
    p("1905", 80.0, Flat, 0.0, ASK, Nowhere, &["个税汇算怎么办理？", "小规模纳税人怎么开发票？", "退税什么时候到账？"]),
    p(
        "1906",
        30.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["想申请政府信息公开，怎么提交？", "在哪里能查到老旧小区改造的政策文件？", "信息公开申请超期没有答复"],
    ),
    // 民政养老
    p(
        "2001",
        200.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["社区养老驿站能提供哪些服务？", "老年餐桌怎么订餐？", "居家养老服务补贴怎么申请？"],
    ),
    p(
        "2002",
        100.0,
        Winter,
        0.0,
        HELP,
        Nowhere,
        &["家庭困难想申请低保", "家里突发变故，想申请临时救助", "特困人员供养怎么申请？"],
    ),
    p("2003", 60.0, Flat, 0.0, ASK, Nowhere, &["残疾证怎么办理？", "无障碍设施被占用", "残疾人辅具怎么申领？"]),
    p("2004", 40.0, Flat, 0.0, ASK, Nowhere, &["结婚登记需要预约吗？", "丧葬补贴怎么申领？", "离婚登记需要哪些材料？"]),
    p(
        "2005",
        120.0,
        Flat,
        0.0,
        COMPLAIN,
        Home,
        &["居委会开具证明手续繁琐", "希望社区多组织老年人活动", "社区网格员联系不上"],
    ),
    p(
        "2006",
        40.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["退役军人优待证怎么办理？", "军属优抚金什么时候发放？", "退伍军人就业有什么政策？"],
    ),
    p(
        "2007",
        40.0,
        Winter,
        0.2,
        HELP,
        Landmark,
        &["有流浪人员在地下通道露宿", "天冷了有老人在路边乞讨，希望救助", "有流浪人员在公园长椅上过夜"],
    ),
    // 通信邮政
    p(
        "2101",
        120.0,
        Flat,
        0.0,
        COMPLAIN,
        Home,
        &["家里手机信号很差", "宽带经常断网，报修没人来", "小区网络故障好几天了"],
    ),
    p(
        "2102",
        80.0,
        Flat,
        0.0,
        COMPLAIN,
        Nowhere,
        &["手机套餐被莫名扣费", "宽带到期后自动续费不合理", "话费账单有不明收费"],
    ),
    p("2103", 50.0, Flat, 0.0, COMPLAIN, Home, &["有线电视没有信号", "机顶盒坏了报修很久没人来", "有线电视收费有疑问"]),
    p(
        "2104",
        120.0,
        Flat,
        0.0,
        COMPLAIN,
        Nowhere,
        &["快递丢件，快递公司不赔偿", "快递员不送货上门，直接放驿站", "邮政包裹一直没有送达"],
    ),
    // 其他
    p(
        "2201",
        100.0,
        Flat,
        0.0,
        SUGGEST,
        Landmark,
        &["建议在{l}附近增加公共座椅", "建议胡同里增设便民服务点", "希望社区增设便民修车点"],
    ),
    p(
        "2202",
        60.0,
        Flat,
        0.0,
        SUGGEST,
        Nowhere,
        &[
            "表扬{c}工作人员，帮助独居老人解决了生活困难",
            "感谢街道工作人员及时处理了漏水问题",
            "表扬环卫工人雪后及时清扫",
        ],
    ),
    p(
        "2203",
        250.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["想了解老旧小区加装电梯的补贴政策", "想咨询居住证积分落户的政策", "咨询垃圾分类的具体要求"],
    ),
    p(
        "2204",
        80.0,
        Flat,
        0.0,
        ASK,
        Nowhere,
        &["反映的问题在朝阳区，不清楚找谁", "在西城区办事遇到问题", "外地房产问题想咨询"],
    ),
    p(
        "2299",
        40.0,
        Flat,
        0.0,
        COMPLAIN,
        Nowhere,
        &["反映其他问题，希望有关部门关注", "有事情不知道找哪个部门", "希望有关部门协调解决家里的困难"],
    ),
];

/// Alarms that sensors raise as cases: category, share of the category's cases, alarm text.
pub(crate) const SENSORS: &[(&str, f64, &str)] = &[
    ("1601", 0.25, "【“火眼”智能预警】监测到烟雾浓度异常，疑似明火或电气隐患，请立即核实处置"),
    ("1201", 0.1, "【油烟在线监测】餐饮单位油烟排放浓度连续超标，请核查处置"),
    ("0304", 0.2, "【房屋安全监测】平房墙体倾斜监测值超过预警阈值，请核查处置"),
    ("0105", 0.2, "【智能井盖】井盖位移报警，疑似井盖缺失或移位，请立即核实"),
    ("0803", 0.08, "【积水监测】路段积水深度超过15厘米，请及时排水"),
];

/// Units a street office summons (吹哨) for a street-handled category, when it needs help.
pub(crate) const WHISTLES: &[(&str, &[&str])] = &[
    ("0101", &["B16"]),
    ("0102", &["B16", "B22"]),
    ("0107", &["B16", "B04"]),
    ("0110", &["B12", "B18"]),
    ("0203", &["B18"]),
    ("0208", &["B01"]),
    ("0211", &["B01", "B16"]),
    ("0302", &["B02"]),
    ("0312", &["B02", "B03"]),
    ("0605", &["B18", "U01"]),
    ("0804", &["U05"]),
    ("0902", &["B12"]),
    ("1604", &["B02", "B18"]),
    ("1608", &["B24", "B12"]),
];

/// The profile of a category code.
pub(crate) fn profile(code: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.code == code)
}

/// Share of a category's cases raised by sensors, and the alarm text.
pub(crate) fn sensor(code: &str) -> Option<(f64, &'static str)> {
    SENSORS.iter().find(|s| s.0 == code).map(|s| (s.1, s.2))
}

/// The units summoned for a category, if street offices call for help with it.
pub(crate) fn whistle(code: &str) -> Option<&'static [&'static str]> {
    WHISTLES.iter().find(|w| w.0 == code).map(|w| w.1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiesu_domain::catalog::Catalog;
    use jiesu_domain::model::UnitKind;

    #[test]
    fn every_profile_is_a_leaf_of_the_catalog_and_every_leaf_has_one() {
        let catalog = Catalog::dongcheng();
        for p in PROFILES {
            let c = catalog.category(p.code).unwrap_or_else(|| panic!("{} not in the catalog", p.code));
            assert!(c.is_leaf(), "{}", p.code);
            assert!(!p.texts.is_empty() && p.weight > 0.0);
        }
        for leaf in catalog.leaf_categories() {
            assert!(profile(&leaf.code).is_some(), "no profile for {} {}", leaf.code, leaf.name);
        }
        for (code, units) in WHISTLES {
            let c = catalog.category(code).unwrap();
            assert_eq!(c.unit_kind, UnitKind::Street, "{code}: only street offices blow the whistle");
            for u in *units {
                assert!(matches!(catalog.unit(u).unwrap().kind, UnitKind::Department | UnitKind::Utility));
            }
        }
        for (code, ..) in SENSORS {
            assert!(profile(code).is_some());
        }
    }
}
