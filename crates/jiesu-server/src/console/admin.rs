//! 管理: the administrator's page. Users (list, create with a role and unit checked against the
//! catalog, reset the password, disable and enable) and API keys (list, create, revoke): what
//! `jiesu user` and `jiesu key` do, with the same rules (`jiesu_domain::accounts`) and the same
//! store calls. A new password or key is shown once, on the answer to the post that made it, and
//! is never stored (only its hash); no hash is ever shown. The catalog (units, the category tree,
//! the responsibility list 权责清单) is shown read-only. Admins only; CSRF on every form.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use jiesu_domain::accounts::{self, AccountError, KEY_ROLES, USER_ROLES};
use jiesu_domain::catalog::{AreaScope, CategoryScope, Target};
use jiesu_domain::model::Role;
use jiesu_store::StoreError;

use super::forms::{FormPairs, check_form, field};
use super::pages::{Chrome, Opt, check_csrf, chrome, error_page, explain, forbidden_page};
use super::{Lang, Viewer};
use crate::AppState;
use crate::error::ApiError;

/// What a post did, for the page's banner.
enum Flash {
    /// Done; nothing secret to show.
    Ok(String),
    /// Done; a password or key to hand over now (it is shown this once).
    Secret { what: String, secret: String },
    /// Refused, and why.
    Error(String),
}

struct UserLine {
    name: String,
    role_label: &'static str,
    unit_name: String,
    created_at: String,
    disabled: bool,
    is_self: bool,
}

struct KeyLine {
    name: String,
    role_label: &'static str,
    unit_name: String,
    created_at: String,
    last_used_at: String,
    revoked_at: Option<String>,
}

struct UnitLine {
    code: String,
    name: String,
    kind_label: &'static str,
    street_name: String,
}

struct CategoryNode {
    code: String,
    name: String,
    children: Vec<CategoryLeaf>,
}

struct CategoryLeaf {
    code: String,
    name: String,
    deadline_class_label: &'static str,
    handler: String,
}

struct RuleLine {
    line: usize,
    category: String,
    area: String,
    target: String,
    note: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin.html")]
struct AdminPage {
    chrome: Chrome,
    flash: Option<Flash>,
    users: Vec<UserLine>,
    keys: Vec<KeyLine>,
    user_roles: Vec<Opt>,
    key_roles: Vec<Opt>,
    unit_options: Vec<Opt>,
    units: Vec<UnitLine>,
    categories: Vec<CategoryNode>,
    rules: Vec<RuleLine>,
    /// The form's values after a refused create, to keep them.
    form_name: String,
    form_role: String,
    form_unit: String,
    form_kind: &'static str,
}

fn local(state: &AppState, t: DateTime<Utc>) -> String {
    t.with_timezone(&state.desk.config().tz).format("%Y-%m-%d %H:%M").to_string()
}

fn unit_name(state: &AppState, code: Option<&str>) -> String {
    code.map(|c| state.desk.catalog().unit(c).map_or_else(|| c.to_string(), |u| format!("{} {}", u.code, u.name)))
        .unwrap_or_default()
}

fn role_options(lang: Lang, roles: &[Role]) -> Vec<Opt> {
    roles.iter().map(|r| Opt { value: r.code().into(), label: lang.t(r.label()).into() }).collect()
}

/// The account rules' refusals in the page's words.
fn in_words(lang: Lang, e: &AccountError) -> String {
    match e {
        AccountError::Name(_) => {
            lang.f("名称须为 1 至 {} 个字符，不含空格、控制字符和冒号", &[&accounts::MAX_NAME_CHARS])
        }
        AccountError::UnknownRole { .. } | AccountError::RoleNotAllowed { .. } => lang.t("请选择有效的角色").into(),
        AccountError::UnitRequired(_) => lang.t("承办人和网格员须选择所属单位").into(),
        AccountError::UnitNotBound { .. } => lang.t("该角色不隶属于单位，请将单位留空").into(),
        AccountError::UnknownUnit(u) => lang.f("单位代码 {} 不在单位目录中", &[u]),
        AccountError::Password => {
            lang.f("密码须为 {} 至 {} 个字符", &[&accounts::MIN_PASSWORD_CHARS, &accounts::MAX_PASSWORD_CHARS])
        }
    }
}

fn store_words(lang: Lang, e: StoreError) -> String {
    match e {
        StoreError::Exists(_) => lang.t("名称已被使用，请换一个").into(),
        e => explain(lang, &ApiError::from(e)),
    }
}

/// The catalog as shown: read once per page from the desk's catalog.
fn catalog_lines(state: &AppState, lang: Lang) -> (Vec<UnitLine>, Vec<CategoryNode>, Vec<RuleLine>) {
    let catalog = state.desk.catalog();
    let units = catalog
        .units()
        .iter()
        .map(|u| UnitLine {
            code: u.code.clone(),
            name: u.name.clone(),
            kind_label: lang.t(u.kind.label()),
            street_name: u
                .street_code
                .as_deref()
                .and_then(|s| catalog.street(s))
                .map(|s| s.name.clone())
                .unwrap_or_default(),
        })
        .collect();
    let categories = catalog
        .categories()
        .iter()
        .filter(|c| c.parent.is_none())
        .map(|top| CategoryNode {
            code: top.code.clone(),
            name: top.name.clone(),
            children: catalog
                .children(&top.code)
                .into_iter()
                .map(|c| CategoryLeaf {
                    code: c.code.clone(),
                    name: c.name.clone(),
                    deadline_class_label: lang.t(c.deadline_class.label()),
                    handler: match &c.unit {
                        Some(u) => unit_name(state, Some(u)),
                        None => lang.t(c.unit_kind.label()).to_string(),
                    },
                })
                .collect(),
        })
        .collect();
    let category_name =
        |code: &str| catalog.category(code).map_or_else(|| code.to_string(), |c| format!("{code} {}", c.name));
    let rules = catalog
        .responsibility()
        .rules()
        .iter()
        .map(|r| RuleLine {
            line: r.line,
            category: match &r.category {
                CategoryScope::Any => lang.t("全部分类").into(),
                CategoryScope::Top(c) | CategoryScope::Leaf(c) => category_name(c),
            },
            area: match &r.area {
                AreaScope::Any => lang.t("全区").into(),
                AreaScope::Street(s) => catalog.street(s).map_or_else(|| s.clone(), |s| s.name.clone()),
                AreaScope::Community(c) => catalog.community(c).map_or_else(|| c.clone(), |c| c.name.clone()),
            },
            target: match &r.target {
                Target::Unit(u) => unit_name(state, Some(u)),
                Target::Street => lang.t("直派属地街道").into(),
            },
            note: r.note.clone(),
        })
        .collect();
    (units, categories, rules)
}

async fn admin_page(
    state: &AppState,
    v: &Viewer,
    flash: Option<Flash>,
    form: &FormPairs,
    kind: &'static str,
) -> Response {
    let store = state.desk.store();
    let (users, keys) = match tokio::try_join!(store.users(), store.api_keys()) {
        Ok(r) => r,
        Err(e) => return error_page(Some(chrome(state, v, "/admin")), &ApiError::from(e)),
    };
    let me = v.actor.0.user.as_str();
    let users = users
        .into_iter()
        .map(|u| UserLine {
            is_self: u.name == me,
            role_label: v.lang.t(u.role.label()),
            unit_name: unit_name(state, u.unit.as_deref()),
            created_at: local(state, u.created_at),
            disabled: u.disabled,
            name: u.name,
        })
        .collect();
    let keys = keys
        .into_iter()
        .map(|k| KeyLine {
            role_label: v.lang.t(k.key.role.label()),
            unit_name: unit_name(state, k.key.unit.as_deref()),
            created_at: local(state, k.created_at),
            last_used_at: k.last_used_at.map_or_else(|| v.lang.t("从未使用").into(), |t| local(state, t)),
            revoked_at: k.revoked_at.map(|t| local(state, t)),
            name: k.key.name,
        })
        .collect();
    let (units, categories, rules) = catalog_lines(state, v.lang);
    let status = match &flash {
        Some(Flash::Error(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let refused = matches!(flash, Some(Flash::Error(_)));
    let keep = |k: &str| if refused { field(form, k).unwrap_or("").to_string() } else { String::new() };
    let page = AdminPage {
        chrome: chrome(state, v, "/admin"),
        flash,
        users,
        keys,
        user_roles: role_options(v.lang, USER_ROLES),
        key_roles: role_options(v.lang, KEY_ROLES),
        unit_options: state
            .desk
            .catalog()
            .units()
            .iter()
            .map(|u| Opt { value: u.code.clone(), label: format!("{} {}", u.code, u.name) })
            .collect(),
        units,
        categories,
        rules,
        form_name: keep("name"),
        form_role: keep("role"),
        form_unit: keep("unit"),
        form_kind: kind,
    };
    (status, page).into_response()
}

/// The forbidden page, unless the viewer is an administrator.
fn unless_admin(state: &AppState, v: &Viewer) -> Option<Response> {
    (v.actor.role() != Role::Admin).then(|| forbidden_page(state, v))
}

/// `GET /admin`.
pub(crate) async fn admin(State(state): State<AppState>, v: Viewer) -> Response {
    if let Some(r) = unless_admin(&state, &v) {
        return r;
    }
    admin_page(&state, &v, None, &Vec::new(), "").await
}

/// `POST /admin/{what}`: one change, then the page with what it did (a new secret shown once).
async fn change(state: &AppState, v: &Viewer, form: &FormPairs, what: &str) -> Result<Flash, Flash> {
    let name = field(form, "name").unwrap_or("");
    let role = field(form, "role").unwrap_or("");
    let unit = field(form, "unit");
    let now = state.now();
    let store = state.desk.store();
    let lang = v.lang;
    let rule = |e: AccountError| Flash::Error(in_words(lang, &e));
    let stored = |e: StoreError| Flash::Error(store_words(lang, e));
    let missing = || Flash::Error(lang.f("没有名为 {} 的账号", &[&name]));
    match what {
        "user" => {
            accounts::check_name(name).map_err(rule)?;
            let (role, unit) = accounts::role_and_unit(state.desk.catalog(), role, unit, USER_ROLES).map_err(rule)?;
            let password = jiesu_store::one_time_password();
            let user = store.create_user(name, role, unit.as_deref(), &password, now).await.map_err(stored)?;
            tracing::info!(admin = %v.actor.0.user, user = %user.name, role = user.role.code(), "user created (console)");
            Ok(Flash::Secret {
                what: lang.f("已创建用户 {}（{}）。初始密码", &[&user.name, &lang.t(user.role.label())]),
                secret: password,
            })
        }
        "password" => {
            let password = jiesu_store::one_time_password();
            if !store.set_password(name, &password).await.map_err(stored)? {
                return Err(missing());
            }
            tracing::info!(admin = %v.actor.0.user, user = %name, "password reset (console)");
            Ok(Flash::Secret {
                what: lang.f("已重置 {} 的密码，其已登录的会话均已退出。新密码", &[&name]),
                secret: password,
            })
        }
        "disable" | "enable" => {
            let disable = what == "disable";
            if disable && name == v.actor.0.user {
                return Err(Flash::Error(lang.t("不能停用自己正在使用的账号").into()));
            }
            if !store.set_user_disabled(name, disable).await.map_err(stored)? {
                return Err(missing());
            }
            tracing::info!(admin = %v.actor.0.user, user = %name, disabled = disable, "user disabled or enabled (console)");
            Ok(Flash::Ok(if disable {
                lang.f("已停用 {}，其会话均已退出", &[&name])
            } else {
                lang.f("已启用 {}", &[&name])
            }))
        }
        "key" => {
            accounts::check_name(name).map_err(rule)?;
            let (role, unit) = accounts::role_and_unit(state.desk.catalog(), role, unit, KEY_ROLES).map_err(rule)?;
            let (key, secret) = store.create_api_key(name, role, unit.as_deref(), now).await.map_err(stored)?;
            tracing::info!(admin = %v.actor.0.user, key = %key.name, role = key.role.code(), "API key created (console)");
            Ok(Flash::Secret {
                what: lang.f("已创建 API 密钥 {}（{}）。密钥", &[&key.name, &lang.t(key.role.label())]),
                secret,
            })
        }
        "revoke" => {
            if !store.revoke_api_key(name, now).await.map_err(stored)? {
                return Err(Flash::Error(lang.f("没有名为 {} 的有效 API 密钥", &[&name])));
            }
            tracing::info!(admin = %v.actor.0.user, key = %name, "API key revoked (console)");
            Ok(Flash::Ok(lang.f("已吊销 API 密钥 {}", &[&name])))
        }
        _ => Err(Flash::Error(lang.t("未知操作").into())),
    }
}

/// `POST /admin/users`, `/admin/users/password`, `/admin/users/disable`, `/admin/users/enable`,
/// `/admin/keys`, `/admin/keys/revoke`.
pub(crate) async fn post(
    State(state): State<AppState>,
    v: Viewer,
    axum::extract::Path(what): axum::extract::Path<String>,
    Form(form): Form<FormPairs>,
) -> Response {
    if let Some(r) = unless_admin(&state, &v) {
        return r;
    }
    if let Err(e) = check_csrf(&v, &form).and_then(|()| check_form(&form)) {
        return error_page(Some(chrome(&state, &v, "/admin")), &e);
    }
    let (what, kind) = match what.as_str() {
        "users" => ("user", "user"),
        "users-password" => ("password", ""),
        "users-disable" => ("disable", ""),
        "users-enable" => ("enable", ""),
        "keys" => ("key", "key"),
        "keys-revoke" => ("revoke", ""),
        _ => return error_page(Some(chrome(&state, &v, "/admin")), &ApiError::not_found("no such admin action")),
    };
    let flash = match change(&state, &v, &form, what).await {
        Ok(f) | Err(f) => f,
    };
    admin_page(&state, &v, Some(flash), &form, kind).await
}
