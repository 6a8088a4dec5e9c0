//! What the demo's people write: case texts (as an operator records a call, as a citizen types
//! it, as an inspector files a patrol finding, as a sensor raises an alarm), addresses, and the
//! notes on actions (replies, returns, extensions, supervision, verification).
//!
//! Texts are built from templates: `{location}{problem}，{impact}，{ask}`, where the problem comes
//! from the category's profile, the impact from its group, and the location from the case's spot.

use jiesu_domain::model::{CaseKind, Channel};

use crate::dice::Dice;
use crate::places::Spot;
use crate::profiles::{At, Profile, SUGGEST};

/// How the problem affects people, by top-level category (first two digits of the code).
fn impacts(group: &str) -> &'static [&'static str] {
    match group {
        "01" => &["影响行人通行", "存在安全隐患", "影响市容环境", "周边居民意见很大"],
        "02" => &["影响居住环境", "气味难闻", "影响周边居民生活", "环境很差"],
        "03" => &["严重影响正常生活", "家里有老人孩子，很不方便", "多次找物业没有解决", "存在安全隐患"],
        "04" => &["家里有老人孩子，冻得不行", "已经持续好几天了", "打热力公司电话一直占线", "严重影响生活"],
        "05" | "06" | "07" => &["严重影响正常生活", "家里有老人，很着急", "一直没有接到任何通知", "存在安全隐患"],
        "08" => &["污水横流，气味难闻", "影响居民出行", "担心污水进屋", "存在安全隐患"],
        "09" => &["严重影响休息", "老人孩子晚上睡不着", "已经持续很长时间了", "多次沟通无果"],
        "10" => &["影响通行", "存在安全隐患", "居民出行很不方便", "早晚高峰尤其严重"],
        "11" => &["消费者权益受到侵害", "多次与商家协商未果", "损失数千元", "担心有更多人受骗"],
        "12" => &["污染环境，居民意见很大", "影响身体健康", "窗户都不敢开", "已经持续很长时间"],
        "15" => &["影响就医", "希望给个说法", "群众意见很大", "担心健康受到影响"],
        "16" => &["存在严重安全隐患", "居民很担心", "影响正常生活", "担心出事"],
        "17" => &["影响采光和安全", "存在安全隐患", "影响出行", "居民意见很大"],
        _ => &["影响正常生活", "希望引起重视", "居民意见比较大", "已经反映过多次"],
    }
}

/// What the citizen asks for, by kind.
fn asks(kind: CaseKind) -> &'static [&'static str] {
    match kind {
        CaseKind::Report => &["请相关部门依法查处。", "希望执法部门尽快查处。", "请有关部门核实处理。"],
        CaseKind::Help => &["情况紧急，请尽快派人处理！", "请求帮助。", "希望尽快派人抢修。"],
        CaseKind::Suggestion => &["希望相关部门采纳。", "望予以考虑。", "希望能够落实。"],
        _ => &["希望尽快处理。", "请相关部门尽快解决。", "希望有关部门管一管。", "请尽快派人查看。"],
    }
}

/// How a phone call's record begins.
const CALLERS: &[&str] = &["市民来电反映：", "来电人反映：", "居民来电反映：", "市民来电称："];

/// Replaces `{c}`, `{w}` and `{l}` with the spot's community, way and landmark.
fn fill(text: &str, spot: &Spot) -> String {
    text.replace("{c}", &spot.community_name).replace("{w}", spot.way).replace("{l}", spot.landmark)
}

/// The location as said in a text, and the address, for a profile's kind of place.
fn location(d: &mut Dice, at: At, spot: &Spot) -> (String, Option<String>) {
    let (w, n, c, l) = (spot.way, spot.number, &spot.community_name, spot.landmark);
    match at {
        At::Home => {
            let (b, u) = (d.int(1, 12), d.int(1, 6));
            (format!("{c}{w}{n}号院{b}号楼"), Some(format!("东城区{w}{n}号院{b}号楼{u}单元")))
        }
        At::Road => {
            let other = d.text(spot.geo().ways);
            let said = if other != w && d.chance(0.4) {
                format!("{w}与{other}交叉口")
            } else if d.chance(0.5) {
                format!("{w}{n}号门前")
            } else {
                format!("{l}附近的{w}")
            };
            (said, Some(format!("东城区{w}{n}号附近")))
        }
        At::Hutong => {
            let said = if d.chance(0.5) { format!("{c}{w}{n}号附近") } else { format!("{w}{n}号院内") };
            (said, Some(format!("东城区{w}{n}号")))
        }
        At::Landmark => (format!("{l}附近"), Some(format!("东城区{l}附近（{w}）"))),
        At::Shop => (format!("{w}{n}号，"), Some(format!("东城区{w}{n}号"))),
        At::Nowhere => (String::new(), None),
    }
}

/// A case's text and address.
pub(crate) fn case_text(
    d: &mut Dice,
    p: &Profile,
    kind: CaseKind,
    channel: Channel,
    spot: &Spot,
    alarm: Option<&str>,
) -> (String, Option<String>) {
    let problem = fill(d.text(p.texts), spot);
    let (loc, address) = location(d, p.at, spot);
    if let Some(alarm) = alarm {
        let address = address.unwrap_or_else(|| format!("东城区{}{}号", spot.way, spot.number));
        return (format!("{alarm}。点位：{address}。"), Some(address));
    }
    if channel == Channel::Grid {
        let loc = if loc.is_empty() { format!("{}{}号附近", spot.way, spot.number) } else { loc };
        let text = format!("网格员巡查发现：{loc}{problem}，已拍照取证，请相关单位处置。");
        return (text, address.or_else(|| Some(format!("东城区{}{}号附近", spot.way, spot.number))));
    }
    let hotline = channel == Channel::Hotline;
    let text = match kind {
        CaseKind::Consult => {
            let q = problem.trim_end_matches(['？', '?']);
            match (hotline, d.index(3)) {
                (true, 0) => format!("市民来电咨询：{q}？"),
                (true, _) => format!("来电人住在{}，咨询：{q}？", spot.community_name),
                (false, 0) => format!("您好，{q}？谢谢。"),
                (false, _) => format!("{q}？"),
            }
        }
        CaseKind::Suggestion => {
            let said = match (loc.is_empty(), p.kinds == SUGGEST) {
                (true, _) => problem,
                (false, true) => format!("{}，{problem}", loc.trim_end_matches('，')),
                (false, false) => format!("{loc}{problem}，建议加强管理"),
            };
            if hotline { format!("市民来电建议：{said}。") } else { format!("{said}。") }
        }
        _ => {
            let impact = d.pick(impacts(&p.code[..2]));
            let ask = d.pick(asks(kind));
            let body = format!("{loc}{problem}，{impact}，{ask}");
            if hotline {
                format!("{}{body}", d.pick(CALLERS))
            } else if !loc.is_empty() && d.chance(0.3) {
                format!("我住在{}，{body}", spot.community_name)
            } else {
                body
            }
        }
    };
    (text.replace("院内院里", "院内").replace("院内院内", "院内"), address)
}

/// A unit's reply (答复), by top-level category.
pub(crate) fn reply(d: &mut Dice, code: &str) -> String {
    let options: &[&str] = match &code[..2] {
        "01" => &[
            "经现场核实，已联合城管执法队依法处置，现场已恢复",
            "已安排专人现场处理，问题已整改完毕",
            "已责令相关责任方限期整改，现已整改到位",
        ],
        "02" => &[
            "已安排环卫人员清理完毕，并加强日常巡查",
            "已协调保洁公司增加清运频次，现场已清理",
            "经现场查看，已清理完毕，后续纳入日常巡查",
        ],
        "03" => &[
            "已约谈物业公司，督促其落实服务责任，问题已解决",
            "已安排房管所维修人员上门维修",
            "已协调产权单位制定维修方案并完成维修",
        ],
        "04" => &[
            "已派维修人员入户检查，排气后室温已达标",
            "经检修，系统已恢复正常供暖，室温达到18℃以上",
            "已对楼内管线进行调整，供热已恢复正常",
        ],
        "05" | "06" | "07" => {
            &["抢修人员已到场处置，现已恢复正常", "经排查为管线故障，已维修完毕", "已安排人员上门检修，问题已解决"]
        }
        "08" => &["已安排抢险人员疏通管道，现已排水通畅", "已清掏完毕并对管线进行检修", "已抽排积水并加强汛期巡查"],
        "09" => &[
            "已对相关单位进行检查并责令整改，噪声问题已消除",
            "已与当事人沟通，对方表示将注意控制音量",
            "已依法查处夜间违规施工",
        ],
        "10" => &["已加强该路段巡查管控，对违法车辆依法处罚", "已协调相关单位调整设置", "已安排人员现场疏导并清理"],
        "11" => &["已组织双方调解，商家同意退款", "已对商户进行检查并依法处理", "已立案调查，依法处理后将告知结果"],
        "12" => &["已现场检查，责令商户清洗油烟净化设备并整改", "已依法查处并责令停止违法行为", "经监测，排放已达标"],
        "17" => &["已安排园林养护单位修剪完毕", "已对危树进行处置，现场已清理", "已安排打药防治并清扫飞絮"],
        _ => &["已与来电人联系并作出解释说明，来电人表示认可", "已按规定为来电人办理", "已核实情况并依法依规处理"],
    };
    format!("{}。", d.pick(options))
}

/// An operator's direct answer to a consultation.
pub(crate) fn answer(d: &mut Dice) -> String {
    let options = [
        "已向来电人解答相关政策，来电人表示清楚",
        "已告知来电人办理流程及所需材料",
        "已告知来电人咨询电话和办理地点",
        "已根据知识库答复来电人",
    ];
    format!("{}。", d.pick(&options))
}

/// Why a unit asks to return a case: to a neighbour street, or out of its duties.
pub(crate) fn return_reason(d: &mut Dice, other: &str) -> String {
    let options = [
        format!("经现场核实，该点位不在本辖区，属{other}管辖，申请退单"),
        format!("该事项不属于本单位职责，建议转{other}办理"),
        format!("经核实，该问题应由{other}负责，申请退回重新派单"),
    ];
    d.pick(&options).clone()
}

/// Why a unit asks for more time.
pub(crate) fn extension_reason(d: &mut Dice) -> String {
    let options = [
        "需协调产权单位，申请延期",
        "涉及多个部门，需联合处置，申请延期",
        "需待天气条件允许后施工，申请延期",
        "需走招标采购程序，申请延期",
    ];
    d.pick(&options).to_string()
}

/// A supervisor's pressing note.
pub(crate) fn supervision(d: &mut Dice) -> String {
    let options = [
        "群众多次反映，请加快办理，按时答复",
        "请承办单位高度重视，尽快解决",
        "该问题反映集中，请主要负责同志亲自督办",
    ];
    d.pick(&options).to_string()
}

/// An inspector's note on a verification.
pub(crate) fn verification(d: &mut Dice, passed: bool) -> String {
    let options: &[&str] = if passed {
        &["现场核查，问题已整改到位", "核查通过，现场已恢复", "复核属实，准予结案"]
    } else {
        &["现场核查，问题未整改到位，退回承办单位", "核查发现仍有残留，请继续处置"]
    };
    d.pick(options).to_string()
}
