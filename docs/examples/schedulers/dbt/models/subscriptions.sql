-- the canonical subscriptions source csframe reads (data-contract.md names)
select sub_id as subscription_id, account_id as customer_id, started_at, ended_at, mrr, is_trial
from raw.billing_subscriptions
