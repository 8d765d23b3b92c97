// Where a group or snapshot policy runs: the `cloud` and `region` fields of its rules (no parser here: group rules import it, the dashboard may too).
import { z } from "zod";

/** The cloud the OS_* variables form (and the one a group names when it names none). */
export const DEFAULT_CLOUD = "default";

/** Cloud names as clouds.yaml writes them (also a metrics label and a path segment). */
export const CLOUD_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const CloudNameSchema = z.string().regex(CLOUD_NAME_PATTERN, "letters, digits, '.', '_' and '-' (first a letter or digit), at most 63 characters");
/** A Keystone region id: free text, but one line. */
export const RegionNameSchema = z
  .string()
  .min(1)
  .max(255)
  .refine((v) => !/[\u0000-\u001f\u007f]/.test(v) && v.trim() === v, { message: "one line, no leading or trailing spaces" });

