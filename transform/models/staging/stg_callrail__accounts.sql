with accounts as ({{ callrail_rows('accounts') }})

select
    id as account_id,
    numeric_id as account_numeric_id,
    name as account_name,
    outbound_recording_enabled,
    hipaa_account
from accounts
