with trackers as ({{ callrail_rows('trackers') }})

select
    id as tracker_id,
    account_id,
    company ->> 'id' as company_id,
    company ->> 'name' as company_name,
    name as tracker_name,
    type as tracker_type,
    status,
    campaign_name,
    destination_number,
    tracking_numbers,
    whisper_message,
    sms_enabled,
    sms_supported,
    call_flow,
    message_flow,
    source as source_rule,
    swap_targets,
    {{ utc('created_at') }} as created_at,
    {{ utc('disabled_at') }} as disabled_at
from trackers
