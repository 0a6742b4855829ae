//! The names the store writes for its enums, shared by both backends so that a row means the same everywhere.

use crate::alerts::AlertKind;
use crate::events::{EventKind, LogLevel, Tier};
use crate::{BotStatus, DeployOutcome, GenerationKind, ScheduleAction, ScheduleState, Visibility};

/// An enum stored as text: its every value and the name each one is stored under.
pub(crate) trait StoredName: Copy + 'static {
    /// What the value is, for an error naming a bad row.
    const WHAT: &'static str;
    const ALL: &'static [Self];

    fn name(self) -> &'static str;

    /// The value stored as `text`, or an error naming it.
    fn from_name(text: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .copied()
            .find(|value| value.name() == text)
            .ok_or_else(|| format!("unexpected {} `{text}` in the store", Self::WHAT))
    }
}

impl StoredName for Visibility {
    const WHAT: &'static str = "visibility";
    const ALL: &'static [Self] = &[Visibility::Public, Visibility::Internal];

    fn name(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Internal => "internal",
        }
    }
}

impl StoredName for BotStatus {
    const WHAT: &'static str = "status";
    const ALL: &'static [Self] = &[BotStatus::Active, BotStatus::Inactive];

    fn name(self) -> &'static str {
        match self {
            BotStatus::Active => "active",
            BotStatus::Inactive => "inactive",
        }
    }
}

impl StoredName for GenerationKind {
    const WHAT: &'static str = "generation kind";
    const ALL: &'static [Self] = &[GenerationKind::Complete, GenerationKind::Quick];

    fn name(self) -> &'static str {
        match self {
            GenerationKind::Complete => "complete",
            GenerationKind::Quick => "quick",
        }
    }
}

impl StoredName for DeployOutcome {
    const WHAT: &'static str = "deploy outcome";
    const ALL: &'static [Self] = &[
        DeployOutcome::Running,
        DeployOutcome::Succeeded,
        DeployOutcome::Failed,
        DeployOutcome::Interrupted,
        DeployOutcome::Trained,
    ];

    fn name(self) -> &'static str {
        match self {
            DeployOutcome::Running => "running",
            DeployOutcome::Succeeded => "succeeded",
            DeployOutcome::Failed => "failed",
            DeployOutcome::Interrupted => "interrupted",
            DeployOutcome::Trained => "trained",
        }
    }
}

impl StoredName for ScheduleAction {
    const WHAT: &'static str = "schedule action";
    const ALL: &'static [Self] = &[ScheduleAction::Deploy, ScheduleAction::Activate, ScheduleAction::Deactivate];

    fn name(self) -> &'static str {
        match self {
            ScheduleAction::Deploy => "deploy",
            ScheduleAction::Activate => "activate",
            ScheduleAction::Deactivate => "deactivate",
        }
    }
}

impl StoredName for ScheduleState {
    const WHAT: &'static str = "schedule state";
    const ALL: &'static [Self] = &[
        ScheduleState::Pending,
        ScheduleState::Running,
        ScheduleState::Done,
        ScheduleState::Failed,
        ScheduleState::Cancelled,
    ];

    fn name(self) -> &'static str {
        match self {
            ScheduleState::Pending => "pending",
            ScheduleState::Running => "running",
            ScheduleState::Done => "done",
            ScheduleState::Failed => "failed",
            ScheduleState::Cancelled => "cancelled",
        }
    }
}

impl StoredName for EventKind {
    const WHAT: &'static str = "event kind";
    const ALL: &'static [Self] = &EventKind::ALL;

    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl StoredName for Tier {
    const WHAT: &'static str = "tier";
    const ALL: &'static [Self] = &[Tier::Answer, Tier::Suggestions, Tier::Unknown];

    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl StoredName for LogLevel {
    const WHAT: &'static str = "log level";
    const ALL: &'static [Self] = &[LogLevel::Info, LogLevel::Warning, LogLevel::Error];

    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl StoredName for AlertKind {
    const WHAT: &'static str = "alert kind";
    const ALL: &'static [Self] = &AlertKind::ALL;

    fn name(self) -> &'static str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trips<T: StoredName + PartialEq + std::fmt::Debug>() {
        for value in T::ALL {
            assert_eq!(T::from_name(value.name()), Ok(*value));
        }
        assert_eq!(T::from_name("nonsense"), Err(format!("unexpected {} `nonsense` in the store", T::WHAT)));
    }

    #[test]
    fn every_stored_name_reads_back_as_its_value() {
        round_trips::<Visibility>();
        round_trips::<BotStatus>();
        round_trips::<GenerationKind>();
        round_trips::<DeployOutcome>();
        round_trips::<ScheduleAction>();
        round_trips::<ScheduleState>();
        round_trips::<EventKind>();
        round_trips::<Tier>();
        round_trips::<LogLevel>();
        round_trips::<AlertKind>();
    }
}
