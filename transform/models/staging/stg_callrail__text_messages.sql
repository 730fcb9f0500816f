with text_messages as ({{ callrail_rows('text_messages') }})

select
    id as conversation_id,
    account_id,
    company_id,
    company_time_zone,
    initial_tracker_id,
    current_tracker_id,
    initial_tracking_number,
    current_tracking_number,
    customer_name,
    customer_phone_number,
    {{ utc('last_message_at') }} as last_message_at,
    state,
    to_jsonb(recent_messages) as recent_messages,
    lead_status,
    source
from text_messages
