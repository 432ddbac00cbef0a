import { registerEnumType } from 'type-graphql';
import { Arch, BuildStatus, Platform } from '../builds/build.enums';
import { DeliveryStatus } from '../delivery/delivery-status';
import { EventType } from '../events/event-type';

/*
 * The domain enums carry the lowercase wire names as values; GraphQL shows their upper-case keys.
 * Registering them here keeps the domain free of GraphQL.
 */
registerEnumType(EventType, {
  name: 'EventType',
  description: 'What happened; the webhook body carries the dotted name (build.succeeded).',
});
registerEnumType(BuildStatus, { name: 'BuildStatus' });
registerEnumType(Platform, { name: 'Platform' });
registerEnumType(Arch, { name: 'Arch' });
registerEnumType(DeliveryStatus, { name: 'DeliveryStatus' });

export { Arch, BuildStatus, DeliveryStatus, EventType, Platform };
