/**
 * Realistic CAMS receipt bodies (cams-receipts.md §1). Each SMQ message carries Base64 of one JSON
 * object. ChatAppStatus receipts follow per-message sequences (Sent→Delivered→Read, Sent→Failed,
 * or a lone Failed); ChatAppInbound covers TEXT, IMAGE, REPLY and LOCATION with `Message` as a
 * JSON string; ChatAppAudit carries template review events. SmsReport and SmsUp follow the SMS developer
 * reference: snake_case fields, a boolean `success`, a numeric `sequence_id`.
 */

export type Receipt = Record<string, string | number | boolean>;
export type RandomSource = () => number;

const CAMS_TYPES = ['ChatAppInbound', 'ChatAppStatus', 'ChatAppAudit'] as const;
export type CamsMessageType = (typeof CAMS_TYPES)[number];

const BUSINESS_NUMBERS = ['8613800000008', '6580000001', '12025550143'];
const CUST_SPACE_ID = 'cams-83m8j9demoadc';
const WABA_ID = '952718630000233';
const NAMES = ['jack', 'Mei Ling', 'Ahmad', 'Priya', 'Lucas', 'Siti', 'Wei'];
const TEXTS = [
  'Hi, is my order shipped?',
  'Thanks!',
  'What time do you open?',
  'Can I change my address?',
  '好的，谢谢',
];
const REPLIES: readonly [string, string][] = [
  ['Yes, confirm', 'CONFIRM_ORDER'],
  ['No, cancel', 'CANCEL_ORDER'],
  ['Talk to an agent', 'AGENT'],
];
const PLACES: readonly [string, string, string, string][] = [
  ['1 Raffles Place, Singapore', '1.2840', '103.8510', 'Office'],
  ['No. 969 Wenyi West Road, Hangzhou', '30.2813', '120.0269', 'Campus'],
  ['Jl. Sudirman 1, Jakarta', '-6.2088', '106.8456', 'Store'],
];
const TEMPLATES: readonly [string, string, string][] = [
  ['820561547132813184', 'wa_otp_v_0_0_3', 'id'],
  ['744c4b5c79c9432497a075bdfca30001', 'order_shipped', 'en_US'],
  ['744c4b5c79c9432497a075bdfca30002', 'payment_reminder', 'en_US'],
];
const AUDIT_STATUSES = ['pass', 'pass', 'pass', 'fail', 'auditing', 'unaudit', 'disabled', 'paused'];
const FAIL_REASONS = ['INVALID_FORMAT', 'TAG_CONTENT_MISMATCH', 'ABUSIVE_CONTENT'];
const FAILED = {
  ErrorCode: '131026',
  ErrorDescription: '131026:Receiver is incapable of receiving this message(Message Undeliverable.)',
};

/** One MT message working through its status sequence. */
interface StatusSequence {
  readonly messageId: string;
  readonly from: string;
  readonly to: string;
  readonly conversationId: string;
  readonly conversationType: string;
  readonly template: readonly [string, string, string] | undefined;
  readonly statuses: string[];
  timestampMs: number;
}

export function isCamsType(type: string): type is CamsMessageType {
  return (CAMS_TYPES as readonly string[]).includes(type);
}

/** Base64 of the JSON text: the body format CAMS puts on its SMQ queues. */
export function encodeReceipt(receipt: Receipt): string {
  return Buffer.from(JSON.stringify(receipt), 'utf8').toString('base64');
}

export class ReceiptFactory {
  private readonly open: StatusSequence[] = [];
  private seq = 0;

  constructor(private readonly random: RandomSource = Math.random) {}

  /** The next receipt for a message type; any type name works (non-CAMS types get SMS-style or generic bodies). */
  next(messageType: string): Receipt {
    switch (messageType) {
      case 'ChatAppStatus':
        return this.status();
      case 'ChatAppInbound':
        return this.inbound();
      case 'ChatAppAudit':
        return this.audit();
      case 'SmsReport':
        return this.smsReport();
      case 'SmsUp':
        return this.smsUp();
      default:
        return { MessageType: messageType, MessageId: this.messageId(), Timestamp: Date.now() };
    }
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)] as T;
  }

  private digits(n: number): string {
    let out = '';
    for (let i = 0; i < n; i += 1) out += Math.floor(this.random() * 10).toString();
    return out;
  }

  private messageId(): string {
    this.seq += 1;
    return `${Date.now()}${this.digits(4)}${this.seq.toString().padStart(6, '0')}`;
  }

  private userNumber(): string {
    return `86138${this.digits(8)}`;
  }

  private status(): Receipt {
    // Advance an open sequence most of the time, so Delivered and Read follow their Sent.
    if (this.open.length > 0 && (this.random() < 0.66 || this.open.length >= 256)) {
      const index = Math.floor(this.random() * this.open.length);
      const sequence = this.open[index] as StatusSequence;
      const receipt = this.statusStep(sequence);
      if (sequence.statuses.length === 0) {
        this.open[index] = this.open[this.open.length - 1] as StatusSequence;
        this.open.pop();
      }
      return receipt;
    }
    const roll = this.random();
    const statuses =
      roll < 0.88 ? ['Sent', 'Delivered', 'Read'] : roll < 0.94 ? ['Sent', 'Failed'] : ['Failed'];
    const messageId = this.messageId();
    const template = this.random() < 0.7 ? this.pick(TEMPLATES) : undefined;
    const sequence: StatusSequence = {
      messageId,
      from: this.pick(BUSINESS_NUMBERS),
      to: this.userNumber(),
      conversationId: `conv${this.digits(12)}`,
      conversationType: template ? this.pick(['marketing', 'utility', 'authentication']) : 'service',
      template,
      statuses,
      timestampMs: Date.now(),
    };
    const receipt = this.statusStep(sequence);
    if (sequence.statuses.length > 0) this.open.push(sequence);
    return receipt;
  }

  private statusStep(sequence: StatusSequence): Receipt {
    const status = sequence.statuses.shift() as string;
    sequence.timestampMs = Math.max(Date.now(), sequence.timestampMs + 1 + Math.floor(this.random() * 2000));
    // A literal of fixed shape rather than a spread of a shared base: spreading objects of varying
    // shapes falls off V8's fast path and made generation several times slower.
    const template = sequence.template;
    const receipt: Receipt = {
      MessageId: sequence.messageId,
      TaskId: sequence.messageId,
      From: sequence.from,
      To: sequence.to,
      Timestamp: sequence.timestampMs,
      Status: status,
      StatusDescription: status,
      MsgFrameType: template ? 'template' : 'message',
      Type: template ? 'TEMPLATE' : 'TEXT',
      ConversationId: sequence.conversationId,
      ConversationType: sequence.conversationType,
    };
    if (template) {
      receipt['TemplateCode'] = template[0];
      receipt['TemplateName'] = template[1];
      receipt['Language'] = template[2];
    }
    if (status === 'Failed') {
      receipt['ErrorCode'] = FAILED.ErrorCode;
      receipt['ErrorDescription'] = FAILED.ErrorDescription;
    }
    return receipt;
  }

  private inbound(): Receipt {
    const roll = this.random();
    const name = this.pick(NAMES);
    const receipt: Receipt = {
      MessageId: this.messageId(),
      CustSpaceId: CUST_SPACE_ID,
      WabaId: WABA_ID,
      From: this.userNumber(),
      To: this.pick(BUSINESS_NUMBERS),
      Timestamp: Date.now(),
      DisplayName: name,
      Name: name,
      NoticeType: 'inbound',
      Type: 'TEXT',
      Message: this.pick(TEXTS),
    };
    if (roll < 0.5) return receipt;
    if (roll < 0.7) {
      const id = this.digits(15);
      receipt['Type'] = 'IMAGE';
      receipt['Message'] = JSON.stringify({
        caption: this.pick(['receipt', 'damaged box', '']),
        id,
        mimeType: 'image/jpeg',
        url: `https://cams-media-demo.oss-ap-southeast-1.aliyuncs.com/inbound/${id}.jpg`,
      });
    } else if (roll < 0.9) {
      const [text, payload] = this.pick(REPLIES);
      receipt['Type'] = 'REPLY';
      receipt['Message'] = JSON.stringify({ text, payload: `${payload}_${this.digits(6)}` });
    } else {
      const [address, latitude, longitude, place] = this.pick(PLACES);
      receipt['Type'] = 'LOCATION';
      receipt['Message'] = JSON.stringify({ address, latitude, longitude, name: place });
    }
    return receipt;
  }

  private audit(): Receipt {
    const [code, , language] = this.pick(TEMPLATES);
    const status = this.pick(AUDIT_STATUSES);
    return {
      WabaId: WABA_ID,
      TemplateCode: code,
      Language: language,
      AuditStatus: status,
      Reason: status === 'fail' ? this.pick(FAIL_REASONS) : '',
      Type: 'template',
    };
  }

  private smsReport(): Receipt {
    const ok = this.random() < 0.95;
    const now = new Date();
    return {
      phone_number: `138${this.digits(8)}`,
      send_time: now.toISOString().slice(0, 19).replace('T', ' '),
      report_time: now.toISOString().slice(0, 19).replace('T', ' '),
      success: ok,
      err_code: ok ? 'DELIVERED' : 'MK:0001',
      err_msg: ok ? '用户接收成功' : 'failed',
      sms_size: '1',
      biz_id: `${this.digits(6)}^${this.digits(10)}`,
      out_id: '',
    };
  }

  private smsUp(): Receipt {
    return {
      phone_number: `138${this.digits(8)}`,
      send_time: new Date().toISOString().slice(0, 19).replace('T', ' '),
      content: this.pick(TEXTS),
      sign_name: 'Demo',
      dest_code: this.digits(4),
      sequence_id: Number(this.digits(9)),
    };
  }
}
