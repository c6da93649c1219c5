import { defineReceiptType, requireText, words, type OpenRecord } from './spec.js';

/** A template review or account event. */
export interface ChatAppAuditReceipt extends OpenRecord {
  WabaId: string;
  TemplateCode?: string;
  Language?: string;
  AuditStatus?: string;
  Reason?: string;
  /** template, phoneNameUpdate, phoneQualityUpdate, wabaReviewUpdate, … (V2). */
  Type?: string;
  PhoneNumber?: string;
  Status?: string;
  CurrentLimit?: string;
}

/** An audit event other than a template review must say what changed through at least one of these. */
const STATE_FIELDS = ['AuditStatus', 'Status', 'CurrentLimit', 'PhoneNumber', 'TemplateCode'] as const;

/** V1 audit receipts have no Type; V2 says `template` for the same template-review event. */
export function isTemplateEvent(type: unknown): boolean {
  return type === undefined || (typeof type === 'string' && type.toLowerCase() === 'template');
}

function missing(r: Record<string, unknown>): string | undefined {
  const waba = requireText(r, 'WabaId');
  if (waba) return waba;
  if (r['Type'] !== undefined && typeof r['Type'] !== 'string') return 'has a Type that is not a string';
  if (isTemplateEvent(r['Type'])) return requireText(r, 'TemplateCode') ?? requireText(r, 'AuditStatus');
  const hasState = STATE_FIELDS.some(f => typeof r[f] === 'string' && r[f] !== '');
  return hasState ? undefined : `of Type ${String(r['Type'])} needs one of ${STATE_FIELDS.join(', ')}`;
}

export default defineReceiptType<'ChatAppAudit', ChatAppAuditReceipt>({
  name: 'ChatAppAudit',
  jobIdPrefix: 'audit',
  pushPath: '/appaudit',
  // Audit events carry no event id: the key is the whole event state.
  dedupeFields: words('WabaId Type TemplateCode Language AuditStatus Status PhoneNumber CurrentLimit'),
  keyPart: (field, value) => (field === 'Type' && isTemplateEvent(value) ? 'template' : value),
  textFields: words('WabaId TemplateCode Language AuditStatus Reason Type PhoneNumber Status CurrentLimit'),
  missing,
  loggedFields: words('WabaId Type TemplateCode Language AuditStatus Reason PhoneNumber Status CurrentLimit'),
});
