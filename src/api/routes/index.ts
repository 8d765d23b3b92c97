// Every /v1 route spec, one file per resource; the app mounts this list and /openapi.json documents it.
import type { AnyRouteSpec } from "../route.ts";
import { cloudRoutes } from "./clouds.ts";
import { groupRoutes } from "./groups.ts";
import { historyRoutes } from "./history.ts";
import { notificationRoutes } from "./notifications.ts";
import { operationRoutes } from "./operations.ts";
import { policyRoutes } from "./policies.ts";
import { receiverRoutes } from "./receivers.ts";
import { snapshotRoutes } from "./snapshots.ts";
import { viewRoutes } from "./views.ts";

export const allRoutes: readonly AnyRouteSpec[] = [...groupRoutes, ...operationRoutes, ...snapshotRoutes, ...historyRoutes, ...viewRoutes, ...policyRoutes, ...notificationRoutes, ...receiverRoutes, ...cloudRoutes];
