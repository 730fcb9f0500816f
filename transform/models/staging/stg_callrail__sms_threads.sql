with sms_threads as ({{ callrail_rows('sms_threads') }})

select
    id as sms_thread_id,
    account_id,
    company_id,
    company_time_zone,
    initial_tracker_id,
    current_tracker_id,
    initial_tracking_number,
    current_tracking_number,
    customer_name,
    customer_phone_number,
    state,
    notes,
    tags,
    value,
    lead_qualification,
    {{ utc('last_message_at') }} as last_message_at
from sms_threads
