//! `Fn::If` over the template's `Conditions`, as the `AWS::LanguageExtensions` transform
//! resolves it before SAM reads the template ("Intrinsic functions for AWS SAM": SAM itself
//! resolves no intrinsic in `Auth`, so the template switches its authorizer with
//! LanguageExtensions). Only what conditions on parameters need: `Equals`, `Not`, `And`, `Or`,
//! `Condition`.

use anyhow::{bail, Context};
use serde_yaml::Value;

use crate::template::{resolve_string, Parameters};

/// `v` with a top-level `!If [Condition, then, else]` (or `Fn::If`) chosen; anything else as
/// it is.
pub fn choose<'a>(
    v: &'a Value,
    conditions: Option<&Value>,
    params: &Parameters,
) -> anyhow::Result<&'a Value> {
    let Some((f, Value::Sequence(args))) = intrinsic(v) else {
        return Ok(v);
    };
    if f != "If" {
        return Ok(v);
    }
    let [name, then, otherwise] = &args[..] else {
        bail!("!If takes [Condition, then, else]");
    };
    let name = name.as_str().context("!If condition name")?;
    Ok(if holds(name, conditions, params)? {
        then
    } else {
        otherwise
    })
}

/// Whether the named condition holds for the parameters as deployed.
pub fn holds(name: &str, conditions: Option<&Value>, params: &Parameters) -> anyhow::Result<bool> {
    let expr = conditions
        .and_then(|c| c.get(name))
        .with_context(|| format!("condition {name} is not in Conditions"))?;
    eval(expr, conditions, params)
}

fn eval(v: &Value, conditions: Option<&Value>, params: &Parameters) -> anyhow::Result<bool> {
    let list = |arg: &Value| -> anyhow::Result<Vec<bool>> {
        arg.as_sequence()
            .context("a condition function takes a list")?
            .iter()
            .map(|c| eval(c, conditions, params))
            .collect()
    };
    let (f, arg) = intrinsic(v).with_context(|| format!("condition {v:?} is no function"))?;
    match (f.as_str(), arg) {
        ("Equals", Value::Sequence(pair)) if pair.len() == 2 => {
            Ok(resolve_string(&pair[0], params)? == resolve_string(&pair[1], params)?)
        }
        ("Not", arg) => Ok(!list(arg)?.first().copied().context("!Not [condition]")?),
        ("And", arg) => Ok(list(arg)?.iter().all(|b| *b)),
        ("Or", arg) => Ok(list(arg)?.iter().any(|b| *b)),
        ("Condition", Value::String(name)) => holds(name, conditions, params),
        _ => bail!("condition {v:?} is not modelled by the local gateway"),
    }
}

/// The function name (without `!` or `Fn::`) and argument of an intrinsic in either spelling.
fn intrinsic(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_owned(),
            &t.value,
        )),
        Value::Mapping(m) if m.len() == 1 => {
            let (k, arg) = m.iter().next()?;
            let k = k.as_str()?;
            Some((k.strip_prefix("Fn::").unwrap_or(k).to_owned(), arg))
        }
        _ => None,
    }
}
