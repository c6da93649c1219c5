import { defineReceiptType, requireText, words, type OpenRecord } from './spec.js';

/** An SMS delivery report (SendSms / SendBatchSms), as Alibaba Cloud SMS writes it to its SmsReport queue. */
export interface SmsReportReceipt extends OpenRecord {
  /** The send's BizId; one batch send shares it across its numbers. */
  biz_id: string;
  phone_number: string;
  /** Whether the carrier delivered it. */
  success?: boolean;
  /** The carrier's status code: `DELIVERED` on success. */
  err_code?: string;
  err_msg?: string;
  /** When it went to the carrier, `YYYY-MM-DD HH:mm:ss`. */
  send_time?: string;
  /** When the carrier reported, `YYYY-MM-DD HH:mm:ss`. */
  report_time?: string;
  /** Billed parts of the message. */
  sms_size?: string;
  /** The `OutId` given to SendSms. */
  out_id?: string;
}

export default defineReceiptType<'SmsReport', SmsReportReceipt>({
  name: 'SmsReport',
  jobIdPrefix: 'smsreport',
  pushPath: '',
  // One report per number of a send: a batch send's numbers share its BizId.
  dedupeFields: ['biz_id', 'phone_number'],
  textFields: words('biz_id phone_number err_code err_msg send_time report_time sms_size out_id'),
  booleanFields: ['success'],
  missing: r => requireText(r, 'biz_id') ?? requireText(r, 'phone_number'),
  loggedFields: words('biz_id phone_number success err_code err_msg send_time report_time sms_size out_id'),
});
