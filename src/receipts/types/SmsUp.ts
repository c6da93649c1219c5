import { defineReceiptType, requireText, words, type OpenRecord } from './spec.js';

/** An SMS reply from a user (MO), as Alibaba Cloud SMS writes it to its SmsUp queue. */
export interface SmsUpReceipt extends OpenRecord {
  /** The carrier's sequence id of the reply; numeric in the queue body, kept as its decimal string. */
  sequence_id: string;
  phone_number: string;
  /** What the user wrote. */
  content?: string;
  /** When the carrier passed the reply on, `YYYY-MM-DD HH:mm:ss`. */
  send_time?: string;
  /** The extension number the reply was sent to. */
  dest_code?: string;
  sign_name?: string;
}

export default defineReceiptType<'SmsUp', SmsUpReceipt>({
  name: 'SmsUp',
  jobIdPrefix: 'smsup',
  pushPath: '',
  dedupeFields: ['phone_number', 'sequence_id'],
  textFields: words('sequence_id phone_number content send_time dest_code sign_name'),
  missing: r => requireText(r, 'sequence_id') ?? requireText(r, 'phone_number'),
  // `content` is what the user wrote: not logged.
  loggedFields: words('sequence_id phone_number dest_code sign_name send_time'),
});
