//! The simulation: instances that start at random times, each running the real
//! [`RevocationWatch`] on its own skewed clock; writers that revoke tokens, sessions and users;
//! requests at rate λ per instance; and the truth every decision is judged against.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use tokengate_claims::AccessClaims;
use tokengate_domain::ports::{FeedEntry, Revoked};
use tokengate_domain::revocation_feed::RevocationWatch;

pub use crate::params::{Arrivals, Outcome, Params};
use crate::world::{Ledger, Rng, Skewed, View, World, Written};

struct Token {
    claims: AccessClaims,
}

struct Instance {
    watch: RevocationWatch,
    view: Arc<View>,
    skew_ms: i64,
    rate: f64,
    next_ms: f64,
    cold_start_ms: Option<i64>,
}

const USERS: usize = 20;
const ISSUE: u8 = 0;
const WRITE: u8 = 1;
const REQUEST: u8 = 2;

struct Sim {
    p: Params,
    world: Arc<World>,
    rng: Rng,
    instances: Vec<Instance>,
    tokens: Vec<Token>,
    /// `sid`s and their owners; a session with a revocation written gets no new token.
    sessions: Vec<(usize, String)>,
    by_session: HashMap<String, Vec<usize>>,
    by_user: HashMap<String, Vec<usize>>,
    /// (commit, token) of tokens a revocation reached, for requests to try.
    targets: Vec<(i64, usize)>,
    /// User → commit time of their pending version bump.
    pending: HashMap<String, i64>,
    queue: BinaryHeap<Reverse<(i64, u64, u8, usize)>>,
    seq: u64,
    out: Outcome,
}

/// Runs one simulation to its end.
pub fn run(p: Params) -> Outcome {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    rt.block_on(Sim::new(p).run())
}

impl Sim {
    fn new(p: Params) -> Self {
        let mut rng = Rng::new(p.seed);
        let now = Arc::new(AtomicI64::new(0));
        let world = Arc::new(World {
            now: now.clone(),
            ledger: Mutex::new(Ledger {
                rng: Rng::new(p.seed.wrapping_add(1)),
                written: vec![],
                denied: HashMap::new(),
                revoked_sessions: HashMap::new(),
                bumps: HashMap::new(),
                lost_feed_reads: p.lost_feed_reads,
                lost_store_reads: p.lost_store_reads,
            }),
        });
        let instances = (p.rates.iter())
            .map(|&rate| {
                let view = Arc::new(View {
                    world: world.clone(),
                    feed_reads: Default::default(),
                    store_reads: Default::default(),
                });
                let skew_ms = rng.skew(p.skew_ms);
                let clock = Arc::new(Skewed {
                    now: now.clone(),
                    skew_ms,
                });
                let watch = RevocationWatch::new(view.clone(), view.clone(), clock, p.life)
                    .with_catch_up(p.catch_up);
                let start = rng.between(0, p.starts_within_ms - 1) as f64;
                Instance {
                    watch,
                    view,
                    skew_ms,
                    rate,
                    next_ms: start,
                    cold_start_ms: None,
                }
            })
            .collect();
        Self {
            p,
            world,
            rng,
            instances,
            tokens: vec![],
            sessions: vec![],
            by_session: HashMap::new(),
            by_user: HashMap::new(),
            targets: vec![],
            pending: HashMap::new(),
            queue: BinaryHeap::new(),
            seq: 0,
            out: Outcome::default(),
        }
    }

    fn at(&mut self, t: i64, kind: u8, index: usize) {
        self.seq += 1;
        self.queue.push(Reverse((t, self.seq, kind, index)));
    }

    async fn run(mut self) -> Outcome {
        self.at(0, ISSUE, 0);
        self.at(0, WRITE, 0);
        for i in 0..self.instances.len() {
            let t = self.instances[i].next_ms as i64;
            self.at(t, REQUEST, i);
        }
        while let Some(Reverse((t, _, kind, i))) = self.queue.pop() {
            if t >= self.p.duration_ms {
                break;
            }
            self.world.now.store(t, Ordering::SeqCst);
            match kind {
                ISSUE => {
                    self.issue(t);
                    let gap = self.rng.gap_ms(self.p.tokens_per_sec);
                    self.at(t + gap as i64, ISSUE, 0);
                }
                WRITE => {
                    self.write(t);
                    let gap = self.rng.gap_ms(self.p.revocations_per_sec);
                    self.at(t + gap as i64, WRITE, 0);
                }
                _ => {
                    self.request(t, i).await;
                    let inst = &mut self.instances[i];
                    inst.next_ms += match self.p.arrivals {
                        Arrivals::Poisson => self.rng.gap_ms(inst.rate),
                        Arrivals::Regular => 1000.0 / inst.rate,
                    };
                    let next = inst.next_ms as i64;
                    self.at(next, REQUEST, i);
                }
            }
        }
        for inst in &self.instances {
            self.out.feed_reads += inst.view.feed_reads.load(Ordering::SeqCst);
            self.out.store_reads += inst.view.store_reads.load(Ordering::SeqCst);
        }
        self.out
    }

    /// A login (a new session) or a refresh (a token in a live session), at the user's
    /// version as a strongly consistent read sees it now.
    fn issue(&mut self, t: i64) {
        let user = self.rng.below(USERS);
        let sub = format!("u{user}");
        let live: Vec<usize> = (0..self.sessions.len())
            .filter(|&s| self.sessions[s].0 == user && !self.is_revoking(&self.sessions[s].1))
            .collect();
        let sid = match live.is_empty() || self.rng.chance(0.3) {
            true => {
                let sid = format!("s{}", self.sessions.len());
                self.sessions.push((user, sid.clone()));
                sid
            }
            false => self.sessions[live[self.rng.below(live.len())]].1.clone(),
        };
        let ver = self.world.ledger().version(&sub, t);
        let iat = t.div_euclid(1000);
        let index = self.tokens.len();
        let claims = AccessClaims {
            iss: "https://auth.test".into(),
            aud: "api".into(),
            sub: sub.clone(),
            client_id: None,
            exp: iat + self.p.life.access_ttl_secs,
            iat,
            nbf: iat,
            jti: format!("t{index}"),
            roles: vec![],
            ver,
            scope: None,
            sid: Some(sid.clone()),
        };
        self.tokens.push(Token { claims });
        self.by_session.entry(sid).or_default().push(index);
        self.by_user.entry(sub).or_default().push(index);
    }

    fn is_revoking(&self, sid: &str) -> bool {
        self.world.ledger().revoked_sessions.contains_key(sid)
    }

    /// One revoking write by a writer with its own skew: stamped now by its clock, committed
    /// up to the writer cap later (at the cap a third of the time).
    fn write(&mut self, t: i64) {
        if self.tokens.is_empty() {
            return;
        }
        let at_ms = t + self.rng.skew(self.p.skew_ms);
        let cap = self.p.commit_delay_ms;
        let commit_ms = t + match self.rng.below(3) {
            0 => cap,
            _ => self.rng.between(0, cap),
        };
        let recent = self.tokens.len().saturating_sub(200);
        let victim = recent + self.rng.below(self.tokens.len() - recent);
        let claims = self.tokens[victim].claims.clone();
        let life_until = self.p.life.until(at_ms.div_euclid(1000));
        let (revoked, until, reached) = match self.rng.below(3) {
            0 => {
                let jti = claims.jti.clone();
                keep_first(&mut self.world.ledger().denied, &jti, commit_ms);
                let until = claims.exp + self.p.life.leeway_secs + 1;
                (Revoked::Token { jti }, until, vec![victim])
            }
            1 => {
                let sid = claims.sid.clone().expect("every token has a session");
                let mut ledger = self.world.ledger();
                keep_first(&mut ledger.revoked_sessions, &sid, commit_ms);
                drop(ledger);
                let reached = self.by_session[&sid].clone();
                (Revoked::Session { sid }, life_until, reached)
            }
            _ => {
                let user_id = claims.sub.clone();
                if self.pending.get(&user_id).is_some_and(|&c| c > t) {
                    return; // one bump at a time per user: the adapter's condition
                }
                self.pending.insert(user_id.clone(), commit_ms);
                let mut ledger = self.world.ledger();
                let min_version = ledger.version(&user_id, i64::MAX) + 1;
                let bumps = ledger.bumps.entry(user_id.clone()).or_default();
                bumps.push((commit_ms, min_version));
                drop(ledger);
                let reached = self.by_user[&user_id].clone();
                let revoked = Revoked::Principal {
                    user_id,
                    min_version,
                };
                (revoked, life_until, reached)
            }
        };
        self.world.ledger().written.push(Written {
            entry: FeedEntry {
                at_ms,
                until,
                revoked,
            },
            commit_ms,
        });
        self.targets.retain(|(c, _)| *c > t - 10_000);
        self.targets
            .extend(reached.into_iter().map(|i| (commit_ms, i)));
    }

    /// When the token was revoked (committed), if it was.
    fn revoked_at(&self, claims: &AccessClaims) -> Option<i64> {
        let ledger = self.world.ledger();
        let jti = ledger.denied.get(&claims.jti).copied();
        let sid = claims.sid.as_ref();
        let session = sid.and_then(|s| ledger.revoked_sessions.get(s)).copied();
        let bump = (ledger.bumps.get(&claims.sub).into_iter().flatten())
            .filter(|(_, v)| *v > claims.ver)
            .map(|(c, _)| *c)
            .min();
        [jti, session, bump].into_iter().flatten().min()
    }

    async fn request(&mut self, t: i64, i: usize) {
        let index = match self.targets.is_empty() || self.rng.chance(0.5) {
            _ if self.tokens.is_empty() => return,
            true => {
                let recent = self.tokens.len().saturating_sub(200);
                recent + self.rng.below(self.tokens.len() - recent)
            }
            false => self.targets[self.rng.below(self.targets.len())].1,
        };
        let mut claims = self.tokens[index].claims.clone();
        let inst = &mut self.instances[i];
        // The verifier refuses an expired token (leeway included) before any revocation
        // check: such a client would have refreshed, and presents the newest token instead.
        let now = (t + inst.skew_ms).div_euclid(1000);
        if now > claims.exp + self.p.life.leeway_secs {
            claims = self.tokens[self.tokens.len() - 1].claims.clone();
        }
        let cold_start = *inst.cold_start_ms.get_or_insert(t);
        self.out.requests += 1;
        let decision = inst.watch.check(&claims).await;
        let revoked_at = self.revoked_at(&claims);
        let what =
            |c: Option<i64>| format!("{} at t={t} on instance {i}, revoked at {c:?}", claims.jti);
        if let (Ok(d), Some(c)) = (&decision, revoked_at) {
            if !d.revokes() && t >= c {
                self.out.latest_acceptance_ms = self.out.latest_acceptance_ms.max(t - c);
            }
        }
        match (&decision, revoked_at) {
            (Err(_), _) => self.out.unavailable += 1,
            (Ok(d), Some(c)) if !d.revokes() && t >= c + 1000 => self
                .out
                .violations
                .push(format!("accepted {}", what(Some(c)))),
            (Ok(d), c) if d.revokes() && c.is_none_or(|c| c > t) => {
                self.out.false_refusals.push(format!("refused {}", what(c)))
            }
            _ => {}
        }
        match revoked_at {
            Some(c) if t >= c + 1000 => {
                self.out.revoked_checked += 1;
                if c < cold_start {
                    self.out.revoked_before_cold_start += 1;
                }
            }
            Some(c) if t >= c => self.out.within_bound += 1,
            _ => {}
        }
    }
}

/// Records a revocation's commit; of two writes revoking the same thing the earlier commit
/// is when it was revoked.
fn keep_first(commits: &mut HashMap<String, i64>, key: &str, commit_ms: i64) {
    let c = commits.entry(key.to_owned()).or_insert(commit_ms);
    *c = (*c).min(commit_ms);
}
