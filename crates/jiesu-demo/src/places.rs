//! Where demo cases happen and who reports them.
//!
//! Places: for each of Dongcheng's 17 streets (街道), an approximate centre and a handful of real
//! streets, hutongs and landmarks that lie in or at the edge of it. **The coordinates are
//! approximate** (a jittered point near the street's centre, WGS-84, inside about lat 39.85–39.97,
//! lon 116.38–116.45); they are good for a map of the district, not for navigation. Communities
//! come from the catalog, so every case's street and community codes are real and consistent.
//!
//! People: names are synthetic (a common surname and a common given name) and phone numbers are
//! fake by construction: a real mobile prefix followed by `0000` and four random digits.

use jiesu_domain::catalog::{Catalog, Community};

use crate::dice::Dice;

/// Geography of one street: approximate centre, roads and hutongs, landmarks.
pub(crate) struct StreetGeo {
    /// Street code (9 digits).
    pub code: &'static str,
    /// Approximate centre (lat, lon).
    pub centre: (f64, f64),
    /// Real roads, lanes and hutongs in or at the edge of the street.
    pub ways: &'static [&'static str],
    /// Real landmarks nearby.
    pub landmarks: &'static [&'static str],
    /// Relative share of the district's cases (population, visitors, old housing).
    pub weight: f64,
}

/// The 17 streets, in catalog order.
pub(crate) const STREETS: &[StreetGeo] = &[
    StreetGeo {
        code: "110101001",
        centre: (39.912, 116.407),
        weight: 0.9,
        ways: &[
            "王府井大街",
            "南池子大街",
            "北池子大街",
            "灯市口大街",
            "东安门大街",
            "金鱼胡同",
            "台基厂大街",
            "东交民巷",
            "正义路",
        ],
        landmarks: &["王府井", "东单", "南池子", "灯市口"],
    },
    StreetGeo {
        code: "110101002",
        centre: (39.925, 116.404),
        weight: 0.8,
        ways: &["景山东街", "沙滩北街", "五四大街", "美术馆后街", "钟鼓胡同", "黄化门街", "隆福寺街", "大佛寺东街"],
        landmarks: &["景山", "美术馆", "隆福寺", "沙滩"],
    },
    StreetGeo {
        code: "110101003",
        centre: (39.937, 116.404),
        weight: 1.1,
        ways: &[
            "南锣鼓巷",
            "帽儿胡同",
            "雨儿胡同",
            "菊儿胡同",
            "黑芝麻胡同",
            "东棉花胡同",
            "北兵马司胡同",
            "鼓楼东大街",
            "交道口南大街",
            "府学胡同",
            "炒豆胡同",
        ],
        landmarks: &["南锣鼓巷", "交道口", "鼓楼东大街"],
    },
    StreetGeo {
        code: "110101004",
        centre: (39.944, 116.409),
        weight: 1.0,
        ways: &[
            "国子监街",
            "五道营胡同",
            "方家胡同",
            "安定门内大街",
            "箭厂胡同",
            "分司厅胡同",
            "北锣鼓巷",
            "钟楼湾胡同",
        ],
        landmarks: &["安定门", "国子监", "五道营胡同", "北锣鼓巷"],
    },
    StreetGeo {
        code: "110101005",
        centre: (39.942, 116.419),
        weight: 1.0,
        ways: &[
            "雍和宫大街",
            "东四北大街",
            "北新桥三条",
            "香饵胡同",
            "九道湾胡同",
            "东直门内大街",
            "海运仓胡同",
            "北新仓胡同",
        ],
        landmarks: &["雍和宫", "北新桥", "簋街"],
    },
    StreetGeo {
        code: "110101006",
        centre: (39.931, 116.418),
        weight: 0.9,
        ways: &["东四三条", "东四四条", "东四六条", "东四八条", "东四南大街", "南门仓胡同", "钱粮胡同", "豆瓣胡同"],
        landmarks: &["东四", "东四十条", "隆福寺"],
    },
    StreetGeo {
        code: "110101007",
        centre: (39.925, 116.426),
        weight: 0.9,
        ways: &["史家胡同", "内务部街", "演乐胡同", "礼士胡同", "朝阳门内大街", "朝阳门南小街", "竹杆胡同", "新鲜胡同"],
        landmarks: &["朝阳门", "史家胡同", "东四十条"],
    },
    StreetGeo {
        code: "110101008",
        centre: (39.910, 116.424),
        weight: 1.0,
        ways: &[
            "建国门内大街",
            "东总布胡同",
            "西总布胡同",
            "大羊宜宾胡同",
            "北京站街",
            "崇文门内大街",
            "赵家楼胡同",
            "苏州胡同",
            "外交部街",
        ],
        landmarks: &["建国门", "北京站", "东单", "崇文门"],
    },
    StreetGeo {
        code: "110101009",
        centre: (39.942, 116.433),
        weight: 1.1,
        ways: &["东直门内大街", "东直门南小街", "东直门北小街", "新中街", "东直门外大街", "香河园路", "胡家园"],
        landmarks: &["东直门", "簋街", "工人体育馆"],
    },
    StreetGeo {
        code: "110101010",
        centre: (39.960, 116.417),
        weight: 1.5,
        ways: &[
            "和平里中街",
            "和平里东街",
            "和平里北街",
            "安定门外大街",
            "安德路",
            "地坛北门外大街",
            "青年湖西里",
            "人定湖北巷",
        ],
        landmarks: &["和平里", "地坛", "青年湖", "安定门"],
    },
    StreetGeo {
        code: "110101011",
        centre: (39.895, 116.401),
        weight: 0.7,
        ways: &["前门大街", "鲜鱼口街", "大江胡同", "草厂三条", "长巷头条", "西打磨厂街", "北翔凤胡同"],
        landmarks: &["前门", "鲜鱼口", "前门大街"],
    },
    StreetGeo {
        code: "110101012",
        centre: (39.894, 116.418),
        weight: 1.1,
        ways: &["崇文门外大街", "花市大街", "东兴隆街", "西兴隆街", "西花市大街", "磁器口大街"],
        landmarks: &["崇文门", "磁器口", "新世界商场"],
    },
    StreetGeo {
        code: "110101013",
        centre: (39.893, 116.432),
        weight: 1.0,
        ways: &["东花市大街", "广渠门内大街", "东花市北里", "忠实里", "广渠门北里", "花市枣苑"],
        landmarks: &["广渠门", "东花市", "花市枣苑"],
    },
    StreetGeo {
        code: "110101014",
        centre: (39.879, 116.439),
        weight: 1.2,
        ways: &["龙潭路", "光明路", "左安门内大街", "夕照寺街", "幸福大街", "板厂南里", "龙潭北里"],
        landmarks: &["龙潭湖", "左安门", "光明楼", "幸福大街"],
    },
    StreetGeo {
        code: "110101015",
        centre: (39.880, 116.424),
        weight: 0.9,
        ways: &["体育馆路", "幸福大街", "法华寺街", "天坛东路", "四块玉南街", "南岗子街"],
        landmarks: &["幸福大街", "天坛东门", "法华寺"],
    },
    StreetGeo {
        code: "110101016",
        centre: (39.877, 116.406),
        weight: 1.0,
        ways: &["天坛路", "永定门内大街", "金鱼池中街", "东晓市街", "祈谷路", "精忠街"],
        landmarks: &["天坛", "金鱼池", "红桥", "永定门"],
    },
    StreetGeo {
        code: "110101017",
        centre: (39.862, 116.404),
        weight: 1.6,
        ways: &["永定门外大街", "安乐林路", "沙子口路", "琉璃井路", "桃园路", "景泰西街", "革新里", "宝华里"],
        landmarks: &["永定门", "沙子口", "安乐林", "琉璃井"],
    },
];

/// Common surnames (by frequency, roughly).
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱", "高", "林", "何", "郭", "马",
    "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "于", "董", "萧", "程", "曹", "袁", "邓", "许", "傅", "沈", "曾",
    "彭", "吕",
];

/// Common given names.
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞",
    "平", "刚", "桂英", "建国", "建华", "志强", "秀兰", "淑珍", "玉兰", "文", "欣怡", "子涵", "浩然", "宇航", "雪",
    "晨", "婷", "海燕", "国强", "红梅", "立新", "春生", "凤英", "德胜", "玉华", "俊杰", "思远", "嘉怡", "一鸣",
];

/// Mobile prefixes of the three carriers.
const PREFIXES: &[&str] = &[
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156", "158",
    "159", "176", "177", "180", "185", "186", "187", "188", "189", "199",
];

/// A synthetic citizen name.
pub(crate) fn person(d: &mut Dice) -> String {
    format!("{}{}", d.pick(SURNAMES), d.pick(GIVEN))
}

/// A fake mobile number: real prefix + `0000` + four digits (e.g. `13800004821`).
pub(crate) fn phone(d: &mut Dice) -> String {
    format!("{}0000{:04}", d.pick(PREFIXES), d.int(0, 9999))
}

/// Where a case is: the codes, an address and a point.
#[derive(Debug, Clone)]
pub(crate) struct Spot {
    /// Index into [`STREETS`].
    pub street: usize,
    /// Community code.
    pub community: String,
    /// Community short name (…社区).
    pub community_name: String,
    /// The way (road/hutong) named in the address.
    pub way: &'static str,
    /// A landmark nearby.
    pub landmark: &'static str,
    /// House number on the way.
    pub number: i64,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
}

impl Spot {
    /// The street's geography.
    pub fn geo(&self) -> &'static StreetGeo {
        &STREETS[self.street]
    }
}

/// Picks a street by weight, then a community of it, a way, a landmark and a point.
pub(crate) fn spot(d: &mut Dice, catalog: &Catalog) -> Spot {
    let weights: Vec<f64> = STREETS.iter().map(|s| s.weight).collect();
    let street = d.weighted(&weights);
    spot_in(d, catalog, street)
}

/// A spot in street `street` (index into [`STREETS`]).
pub(crate) fn spot_in(d: &mut Dice, catalog: &Catalog, street: usize) -> Spot {
    let geo = &STREETS[street];
    let communities: Vec<&Community> = catalog.communities_of(geo.code);
    let community = *d.pick(&communities);
    let (lat, lon) = geo.centre;
    Spot {
        street,
        community: community.code.clone(),
        community_name: community.short_name.clone(),
        way: d.text(geo.ways),
        landmark: d.text(geo.landmarks),
        number: d.int(1, 120),
        lat: round6(lat + d.float(-0.0055, 0.0055)),
        lon: round6(lon + d.float(-0.0065, 0.0065)),
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streets_match_the_catalog_and_stay_in_dongcheng() {
        let catalog = Catalog::dongcheng();
        assert_eq!(STREETS.len(), catalog.streets().len());
        for (geo, street) in STREETS.iter().zip(catalog.streets()) {
            assert_eq!(geo.code, street.code);
            assert!(!catalog.communities_of(geo.code).is_empty());
        }
        let mut d = Dice::new(3);
        for _ in 0..2000 {
            let s = spot(&mut d, &catalog);
            assert!((39.85..=39.97).contains(&s.lat) && (116.38..=116.45).contains(&s.lon), "{s:?}");
        }
        assert_eq!(phone(&mut d).len(), 11);
    }
}
