/** Reading a request: path parameters and the JSON body (JSON whatever the Content-Type says). */
import type { NextFunction, Request, Response } from 'express';
import { NetloomError } from '../../lib/errors';

export type Handler = (req: Request, res: Response) => Promise<void>;
/** Turns an async handler into express middleware that passes its errors on. */
export type Wrap = (h: Handler) => (req: Request, res: Response, next: NextFunction) => void;

export function param(req: Request, name: string): string {
  const v = (req.params as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(v) ? v.join('/') : (v ?? '');
}

/** JSON from the raw body text; an empty body is `{}`. */
export function jsonBody(req: Request): unknown {
  const text = typeof req.body === 'string' ? req.body : '';
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new NetloomError('INVALID_ARGUMENT', `the request body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`, {
      field: 'body',
    });
  }
}
