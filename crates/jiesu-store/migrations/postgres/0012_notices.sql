-- Notices (通知, issue 10): what each person has seen. One mark per person, case and kind of
-- notice, with the version of the notice that was seen (a number that changes when the notice is
-- raised anew: a new deadline, another 督办, another 重办). A notice is unread while its current
-- version has no mark. The notices themselves are not stored: the desk derives them from the cases.
CREATE TABLE notice_marks (
    user_name TEXT NOT NULL,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    seen_at BIGINT NOT NULL,
    PRIMARY KEY (user_name, case_id, kind)
);
