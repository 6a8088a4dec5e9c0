//! The words of the demo: citizens' messages built from the category's own name and keywords,
//! real Dongcheng places, and clearly synthetic names and phone numbers.

use jiesu_domain::catalog::Category;
use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;

/// Real places of Dongcheng (streets, hutongs, landmarks) used in messages.
const PLACES: &[&str] = &[
    "南锣鼓巷", "簋街", "王府井大街", "东四北大街", "雍和宫大街", "地坛公园东门", "天坛东门", "前门大街",
    "崇文门外大街", "东直门内大街", "北新桥", "交道口南大街", "和平里北街", "龙潭湖公园", "幸福大街",
    "磁器口", "建国门内大街", "朝阳门南小街", "安定门内大街", "鼓楼东大街", "美术馆后街", "史家胡同",
    "东单北大街", "灯市口大街", "金鱼胡同", "国子监街", "花市大街", "广渠门内大街", "天坛路", "体育馆路",
];

/// Where in a place the problem is.
const SPOTS: &[&str] = &["路口", "小区门口", "胡同里", "楼下", "公交站旁", "菜市场附近", "学校门口", "院内"];

const OPENINGS: &[&str] = &["反映", "我要反映", "市民来电反映", "本人住在", "您好，", "投诉"];
const DURATIONS: &[&str] = &["已经一个多星期了", "这几天一直这样", "持续两个月了", "今天早上开始", "反映过多次", "每天晚上都有"];
const IMPACTS: &[&str] = &[
    "严重影响居民正常生活",
    "老人孩子出行很不安全",
    "影响周边居民休息",
    "存在安全隐患",
    "环境很差",
    "多次沟通无果",
];
const ASKS: &[&str] = &["希望有关部门尽快处理。", "请尽快派人解决。", "希望尽快给予答复。", "请相关部门核实处理。", "望协调解决，谢谢。"];

const SURNAMES: &[&str] = &["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "马", "朱", "胡", "郭"];
const GIVEN: &[&str] = &["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超"];
const MOBILE_PREFIXES: &[&str] = &["138", "139", "135", "150", "186", "187", "152", "131", "133", "177"];

fn pick<'a>(rng: &mut Xoshiro256PlusPlus, from: &[&'a str]) -> &'a str {
    from[rng.random_range(0..from.len())]
}

/// A citizen's message about `category` at `community`, and its title.
pub fn message(rng: &mut Xoshiro256PlusPlus, category: &Category, community: &str) -> (String, String, String) {
    let place = pick(rng, PLACES);
    let spot = pick(rng, SPOTS);
    let keyword = category.keywords.get(rng.random_range(0..category.keywords.len().max(1))).map_or(category.name.as_str(), |k| k);
    let text = format!(
        "{}{}{}{}{}问题，{}，{}，{}",
        pick(rng, OPENINGS),
        community,
        place,
        spot,
        keyword,
        pick(rng, DURATIONS),
        pick(rng, IMPACTS),
        pick(rng, ASKS)
    );
    let title = format!("{place}{keyword}");
    let address = format!("东城区{place}{spot}");
    (title, text, address)
}

/// A synthetic citizen: a common surname and given name, and a made-up mobile number.
pub fn citizen(rng: &mut Xoshiro256PlusPlus) -> (String, String) {
    let name = format!("{}{}", pick(rng, SURNAMES), pick(rng, GIVEN));
    let phone = format!("{}{:08}", pick(rng, MOBILE_PREFIXES), rng.random_range(0..100_000_000u32));
    (name, phone)
}

/// What a unit replies.
pub fn reply(rng: &mut Xoshiro256PlusPlus, category: &Category) -> String {
    const FRAMES: &[&str] = &[
        "经现场核实，已对{}问题进行处理，并与诉求人沟通，诉求人表示认可。",
        "已安排工作人员到场处置{}问题，后续将加强巡查。",
        "接诉后立即联系诉求人，{}问题已协调相关单位解决。",
        "{}问题已整改完毕，已向诉求人反馈办理结果。",
    ];
    pick(rng, FRAMES).replace("{}", &category.name)
}
