/**
 * Push payloads with the documented CAMS fields (cams-receipts reference §1), as CAMS posts them: a JSON
 * array per request. `tag` keeps ids unique per test.
 */

/** A multi-element ChatAppStatus batch: template sends through Sent → Delivered → Read, and a Failed one. */
export function statusTemplateBatch(tag: string): Record<string, unknown>[] {
  const base = {
    From: '8613100000008',
    To: '8613800000008',
    OriginPhoneNumber: '8613000000008',
    MsgFrameType: 'template',
    Type: 'TEMPLATE',
    TemplateCode: '820561547132813184',
    TemplateName: 'wa_otp_v_0_0_3',
    Language: 'id',
  };
  const sent = { ...base, MessageId: `${tag}-2023078469463703`, TaskId: `${tag}-task-1` };
  return [
    { ...sent, Timestamp: 1691043638000, Status: 'Sent', StatusDescription: 'Sent' },
    { ...sent, Timestamp: 1691043639000, Status: 'Delivered', StatusDescription: 'Delivered' },
    { ...sent, Timestamp: 1691043645000, Status: 'Read', StatusDescription: 'Read' },
    {
      ...base,
      MessageId: `${tag}-2023078469463799`,
      TaskId: `${tag}-task-2`,
      Timestamp: 1691043638000,
      Status: 'Failed',
      StatusDescription: 'Failed',
      ErrorCode: '131026',
      ErrorDescription: '131026:Receiver is incapable of receiving this message(Message Undeliverable.)',
    },
  ];
}

export const AUDIO_MESSAGE = {
  name: 'voice.ogg',
  id: '1425380478274498',
  mimeType: 'audio/ogg',
  url: 'https://cams-media.oss-ap-southeast-1.aliyuncs.com/voice.ogg',
  filename: 'voice.ogg',
  animated: false,
};

/** A ChatAppInbound AUDIO receipt: `Message` is a JSON-encoded string, as in the HTTP example. */
export function inboundAudio(tag: string): Record<string, unknown> {
  return {
    MessageId: `${tag}-1000000000000003`,
    CustSpaceId: 'cams-83m8j9xxxxadc',
    WabaId: '95271863xxxx233',
    From: '8613888880000',
    To: '8613788860000',
    Timestamp: 1662104191973,
    DisplayName: 'Mr Liu',
    Name: 'jack',
    Type: 'AUDIO',
    Message: JSON.stringify(AUDIO_MESSAGE),
    NoticeType: 'inbound',
  };
}

/** A ChatAppAudit batch: a V1 template review and V2 events. */
export function auditBatch(tag: string): Record<string, unknown>[] {
  return [
    {
      WabaId: `${tag}-9099999990`,
      TemplateCode: '744c4b5c79c9432497a075bdfca3',
      Language: 'en_US',
      AuditStatus: 'unaudit',
      Reason: '',
    },
    {
      WabaId: `${tag}-9099999990`,
      TemplateCode: '744c4b5c79c9432497a075bdfca3',
      Language: 'en_US',
      AuditStatus: 'fail',
      Reason: 'INVALID_FORMAT',
      Type: 'template',
    },
    {
      WabaId: `${tag}-9099999990`,
      Type: 'phoneQualityUpdate',
      PhoneNumber: '8613800000008',
      Status: 'YELLOW',
    },
  ];
}

/** `count` distinct Delivered status receipts. */
export function statusBatch(tag: string, count: number): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, i) => ({
    MessageId: `${tag}-${i}`,
    Status: 'Delivered',
    StatusDescription: 'Delivered',
    From: '8613100000008',
    To: '8613800000008',
    Timestamp: 1691043638000 + i,
    MsgFrameType: 'message',
  }));
}
