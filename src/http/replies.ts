import type { FastifyError, FastifyReply } from 'fastify';

/** CAMS checks only for HTTP 200 and a numeric `code`; the body is sent pre-serialised. */
export const SUCCESS_BODY = '{"code":0,"msg":"success"}';

const JSON_TYPE = 'application/json; charset=utf-8';

export function sendSuccess(reply: FastifyReply): FastifyReply {
  return reply.code(200).type(JSON_TYPE).send(SUCCESS_BODY);
}

/** Every non-200 reply has the CAMS shape too: `{"code":1,"msg":"…"}`. */
export function sendFailure(reply: FastifyReply, status: number, msg: string): FastifyReply {
  return reply
    .code(status)
    .type(JSON_TYPE)
    .send(JSON.stringify({ code: 1, msg }));
}

/** The 404 for unknown paths; a push path with a wrong secret gets exactly the same reply. */
export function sendNotFound(reply: FastifyReply): FastifyReply {
  return sendFailure(reply, 404, 'not found');
}

/** Fastify's own errors (bad content length, malformed media type…) as CAMS-shaped replies. */
export function sendError(reply: FastifyReply, err: FastifyError): FastifyReply {
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
  return sendFailure(reply, status, status < 500 ? err.message : 'internal error');
}
