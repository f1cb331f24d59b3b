import { z } from 'zod';

/** `24h`, `30m`, `90s`, `2d`, or a bare number of seconds. */
export const DurationSchema = z
  .string()
  .trim()
  .regex(/^\d+\s*[smhd]?$/, { message: 'is not a duration like 24h, 30m, 90s or 0s' })
  .describe('A duration: a number with s, m, h or d (e.g. 24h)');

/** A duration text as seconds; undefined or empty means the 24h default. */
export function durationSeconds(text: string | undefined | null): number {
  if (text === undefined || text === null || text.trim() === '') return 86_400;
  const match = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!match) throw new Error(`${JSON.stringify(text)} is not a duration like 24h, 30m or 0s`);
  return Number(match[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
}

/** How an IaC-managed key rotates: shared by the Pulumi resource and the Terraform provider. */
export const RotationSchema = z.strictObject({
  rotateAfter: z
    .string()
    .refine((value) => !Number.isNaN(Date.parse(value)), { message: 'is not an ISO date' })
    .optional()
    .describe('An ISO date; changing it replaces the key, create-before-destroy (the line to edit in a GitOps repo)'),
  rotateEveryDays: z
    .number()
    .int()
    .min(1)
    .max(3650)
    .optional()
    .describe('Replace the key once it is older than this many days'),
  gracePeriod: DurationSchema.refine(
    (value) => !/^\d+\s*[smhd]?$/.test(value.trim()) || durationSeconds(value) <= 90 * 86_400,
    { message: 'must be at most 90d' },
  )
    .default('24h')
    .describe('How long the old key keeps working after a rotation or a destroy'),
});
export type Rotation = z.infer<typeof RotationSchema>;
