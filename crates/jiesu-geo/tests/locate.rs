//! Place finding: messages and addresses with the street they belong to.
//!
//! Each case is a citizen's message or an address string and the street (街道) the place lies in,
//! for places whose street is not in doubt. The suite runs twice: with the gazetteer alone (no
//! grid, as the server runs without ../shared) and with the grid over the real outline.

use std::sync::OnceLock;

use jiesu_geo::{Geo, Kind, Source};

const OUTLINE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/geo/110101_full.json");

fn with_grid() -> &'static Geo {
    static GEO: OnceLock<Geo> = OnceLock::new();
    GEO.get_or_init(|| {
        let text = std::fs::read_to_string(OUTLINE)
            .unwrap_or_else(|e| panic!("these tests need the shared data ({OUTLINE}): {e}"));
        Geo::dongcheng(&text).expect("grid over the Dongcheng outline")
    })
}

/// (message or address, expected street).
const CASES: &[(&str, &str)] = &[
    ("东城区王府井大街255号", "东华门街道"),
    ("南锣鼓巷里面酒吧太吵", "交道口街道"),
    ("天坛东门附近井盖丢失", "天坛街道"),
    ("故宫东华门外有人违规停车", "东华门街道"),
    ("北京站广场出租车乱停乱放", "建国门街道"),
    ("国子监街孔庙门口有人摆摊设点", "安定门街道"),
    ("五道营胡同餐馆油烟扰民", "安定门街道"),
    ("地坛公园北门共享单车堆积", "和平里街道"),
    ("和平里北街路灯不亮已经一周了", "和平里街道"),
    ("东四六条路面坑洼不平", "东四街道"),
    ("史家胡同垃圾清运不及时", "朝阳门街道"),
    ("前门大街商户外放音乐噪音扰民", "前门街道"),
    ("鲜鱼口小吃街卫生条件差", "前门街道"),
    ("崇文门外大街新世界百货门口有人发小广告", "崇文门外街道"),
    ("龙潭公园西门附近有人钓鱼", "龙潭街道"),
    ("体育馆路国家体育总局门口积水", "体育馆路街道"),
    ("永定门外大街公交站牌损坏", "永定门外街道"),
    ("百荣世贸商城周边交通拥堵", "永定门外街道"),
    ("东花市大街人行道被占用", "东花市街道"),
    ("广渠门内大街施工扰民", "东花市街道"),
    ("交道口南大街人行道有大坑", "交道口街道"),
    ("府学胡同有人私搭乱建", "交道口街道"),
    ("中央戏剧学院附近夜间施工", "交道口街道"),
    ("帽儿胡同停车难", "交道口街道"),
    ("宝钞胡同下水道堵塞", "安定门街道"),
    ("北锣鼓巷有群租房", "安定门街道"),
    ("钟楼湾广场跳广场舞声音太大", "安定门街道"),
    ("海运仓胡同树木倒伏", "北新桥街道"),
    ("南新仓附近餐馆排污", "东四街道"),
    ("隆福寺附近停车收费不规范", "景山街道"),
    ("中国美术馆门口排长队堵塞人行道", "景山街道"),
    ("北京中医医院门口黑车拉客", "景山街道"),
    ("黄化门街路灯不亮", "景山街道"),
    ("东厂胡同有违建", "东华门街道"),
    ("南池子大街下水井盖破损", "东华门街道"),
    ("台基厂大街树枝遮挡信号灯", "东华门街道"),
    ("正义路绿地内有垃圾", "东华门街道"),
    ("东方新天地地下车库漏水", "东华门街道"),
    ("王府井步行街有人强买强卖", "东华门街道"),
    ("外交部街有车辆占用消防通道", "建国门街道"),
    ("北京站东街有人倒卖车票", "建国门街道"),
    ("东总布胡同垃圾桶满溢", "建国门街道"),
    ("社科院门口自行车乱停", "建国门街道"),
    ("演乐胡同老旧小区改造进度慢", "朝阳门街道"),
    ("竹杆胡同暖气不热", "朝阳门街道"),
    ("东直门外大街东方银座旁边渣土车遗撒", "东直门街道"),
    ("新中街小区楼道堆物", "东直门街道"),
    ("香河园路路面塌陷", "东直门街道"),
    ("青年湖公园湖水发臭", "和平里街道"),
    ("黄寺大街公交车站无遮阳棚", "和平里街道"),
    ("安德路附近工地夜间施工", "和平里街道"),
    ("天坛公园南门外小商贩", "天坛街道"),
    ("金鱼池小区停水", "天坛街道"),
    ("祈年殿游客太多无人疏导", "天坛街道"),
    ("夕照寺街路面破损", "龙潭街道"),
    ("国瑞城地下停车场收费高", "崇文门外街道"),
    ("安乐林路占道经营", "永定门外街道"),
    ("我住在和平里街道，楼道里堆满杂物", "和平里街道"),
    ("东华门街道南河沿大街有人遛狗不拴绳", "东华门街道"),
    ("朝阳门街道办事处不作为", "朝阳门街道"),
    ("东城区安定门内大街18号门前积水", "安定门街道"),
    ("南锣鼓巷社区居委会电话打不通", "交道口街道"),
    ("菊儿胡同3号院墙体开裂", "交道口街道"),
    ("金宝街北社区有人养鸽子扰民", "建国门街道"),
    ("国瑞城中区3号楼电梯故障", "崇文门外街道"),
    ("西花市南里东区3号楼外墙脱落", "崇文门外街道"),
    ("左安漪园小区门口积水", "龙潭街道"),
    ("天坛街道金台社区停电", "天坛街道"),
    ("革新里社区垃圾分类不到位", "永定门外街道"),
    ("王府井百货大楼门口有乞讨人员", "东华门街道"),
    ("新东安市场附近出租车绕路", "东华门街道"),
    ("东城区东四六条55号院漏雨", "东四街道"),
    ("东城区交道口南大街136号门前占道", "交道口街道"),
    ("东城区和平里中街14号楼电梯坏了", "和平里街道"),
    ("北新桥街道簋街餐馆占道经营", "北新桥街道"),
    ("永外街道沙子口附近路灯不亮", "永定门外街道"),
    ("崇外街道花市大街有人乱贴小广告", "崇文门外街道"),
];

/// Messages that name no place of Dongcheng: nothing must be made up.
const NO_PLACE: &[&str] = &[
    "小区楼下噪音扰民，晚上睡不着",
    "朝阳区三里屯酒吧街噪音",
    "西城区金融街附近交通拥堵",
    "我家暖气不热，请尽快处理",
    "",
];

fn run(geo: &Geo, label: &str) -> usize {
    let mut right = 0;
    for (text, street) in CASES {
        let p = geo.locate(text, None, None).unwrap();
        let got = p.street.as_ref().map(|s| s.name.as_str());
        if got == Some(*street) {
            right += 1;
        } else {
            println!("[{label}] {text}: expected {street}, got {got:?} (matched {:?})", p.matched);
        }
    }
    println!(
        "[{label}] street right for {right} of {} messages ({:.1}%)",
        CASES.len(),
        100.0 * right as f64 / CASES.len() as f64
    );
    right
}

#[test]
fn every_message_finds_its_street_without_a_grid() {
    let geo = Geo::dongcheng_without_grid();
    assert!(CASES.len() >= 60);
    let right = run(&geo, "gazetteer only");
    // Without a grid, places whose street the gazetteer leaves open get none; none of the cases
    // above is such a place, so all must be right.
    assert_eq!(right, CASES.len());
}

#[test]
fn every_message_finds_its_street_with_the_grid() {
    let right = run(with_grid(), "with grid");
    assert_eq!(right, CASES.len());
}

#[test]
fn messages_without_a_place_get_nothing() {
    for text in NO_PLACE {
        let p = with_grid().locate(text, None, None).unwrap();
        assert_eq!(p.source, Source::None, "{text}: {p:?}");
        assert!(p.street.is_none() && p.point.is_none() && p.grid.is_none(), "{text}: {p:?}");
        assert_eq!(p.confidence, 0.0);
    }
}

#[test]
fn the_address_wins_over_the_text_and_keeps_its_house_number() {
    let p = with_grid().locate("门口井盖丢了，在天坛附近", Some("东城区王府井大街255号"), None).unwrap();
    assert_eq!(p.source, Source::Address);
    assert_eq!(p.street.unwrap().name, "东华门街道");
    assert_eq!(p.matched.as_deref(), Some("王府井大街"));
    assert_eq!(p.kind, Some(Kind::Road));
    assert_eq!(p.house_number.as_deref(), Some("255"));
    assert_eq!(p.area_precision.as_str(), "approximate");
}

#[test]
fn a_point_in_the_district_wins_and_gets_a_grid_cell() {
    // A point at the Temple of Heaven with a text naming Wangfujing: the point decides.
    let p = with_grid().locate("王府井大街井盖丢失", None, Some((116.4070, 39.8830))).unwrap();
    assert_eq!(p.source, Source::Point);
    assert_eq!(p.street.as_ref().unwrap().name, "天坛街道");
    let code = p.grid.unwrap();
    assert!(code.starts_with("110101016"), "{code}");
    assert_eq!(p.matched.as_deref(), Some("王府井大街"));
    // The text names a place in another street: the point still decides, less surely.
    let agreeing = with_grid().locate("祈年殿附近井盖丢失", None, Some((116.4070, 39.8830))).unwrap();
    assert_eq!(agreeing.street, p.street);
    assert!(p.confidence < agreeing.confidence - 0.2, "{} vs {}", p.confidence, agreeing.confidence);
}

#[test]
fn a_point_outside_the_district_falls_back_to_the_text_and_says_so() {
    let p = with_grid().locate("南锣鼓巷噪音", None, Some((116.4610, 39.9090))).unwrap();
    assert!(p.outside_district);
    assert_eq!(p.source, Source::Text);
    assert_eq!(p.street.unwrap().name, "交道口街道");
}

#[test]
fn the_most_specific_place_wins() {
    let geo = with_grid();
    // A hutong beats the street named beside it, and the longest name wins (东四十条 over 东四).
    let p = geo.locate("东四街道东四六条", None, None).unwrap();
    assert_eq!(p.matched.as_deref(), Some("东四六条"));
    assert_eq!(p.kind, Some(Kind::Hutong));
    let m = geo.gazetteer().best("东四十条桥下").unwrap();
    assert_eq!(m.text, "东四十条");
    // 天坛 is the park, not merely the street of that name.
    assert_eq!(geo.locate("天坛有人放风筝", None, None).unwrap().kind, Some(Kind::Landmark));
    // A community names its street for sure.
    let p = geo.locate("南锣鼓巷社区居委会", None, None).unwrap();
    assert_eq!(p.kind, Some(Kind::Community));
    assert_eq!(p.community.unwrap().name, "南锣鼓巷社区");
}

#[test]
fn a_named_street_that_contradicts_the_place_lowers_the_confidence() {
    let geo = with_grid();
    let agree = geo.locate("交道口街道南锣鼓巷", None, None).unwrap();
    let clash = geo.locate("龙潭街道南锣鼓巷", None, None).unwrap();
    assert_eq!(agree.street, clash.street);
    assert!(clash.confidence < agree.confidence - 0.2, "{} vs {}", clash.confidence, agree.confidence);
}

#[test]
fn fine_places_get_a_grid_cell_and_coarse_ones_do_not() {
    let geo = with_grid();
    let p = geo.locate("文天祥祠门口", None, None).unwrap();
    let cell = p.grid.expect("a landmark gets a cell");
    assert!(cell.starts_with("110101003"), "{cell}");
    let p = geo.locate("和平里街道", None, None).unwrap();
    assert!(p.grid.is_none());
    assert_eq!(p.street.unwrap().name, "和平里街道");
}

#[test]
fn a_bare_community_name_is_less_sure_than_the_full_one() {
    let geo = with_grid();
    let full = geo.locate("人定湖社区楼道堆物", None, None).unwrap();
    let bare = geo.locate("人定湖公园门口有人钓鱼", None, None).unwrap();
    assert_eq!(full.street.as_ref().unwrap().name, "和平里街道");
    assert!(full.confidence >= 0.85, "{}", full.confidence);
    assert!(bare.confidence <= 0.6, "{}", bare.confidence);
}

#[test]
fn a_cell_code_gives_back_its_street_and_community() {
    let geo = with_grid();
    let p = geo.locate("", None, Some((116.4033, 39.9370))).unwrap();
    let code = p.grid.unwrap();
    let cell = geo.cell(&code).unwrap();
    assert_eq!(Some(cell.street), p.street);
    assert_eq!(cell.community, p.community);
    assert_eq!(cell.area_precision.as_str(), "approximate");
    assert!(geo.cell("11010100000000").is_none());
    assert!(Geo::dongcheng_without_grid().cell(&code).is_none());
}
