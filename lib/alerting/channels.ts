import { Token } from 'cdktf';
import { PROJECT_ID_TEXT } from '../../function/contract';
import { show } from '../errors';

/**
 * A notification channel's full name. Its project is an id (optionally domain-scoped,
 * `example.com:proj`) or a number; the channel id is what Cloud Monitoring assigns (decimal digits).
 */
export const CHANNEL_NAME = new RegExp(`^projects/(?:${PROJECT_ID_TEXT}|[0-9]{1,20})/notificationChannels/[0-9]{1,40}$`);
const CHANNEL_FORM =
  "'projects/<project id or number>/notificationChannels/<channel id>', e.g. 'projects/fleet-prod-1234/notificationChannels/1355104823470596720' " +
  "(the name `gcloud beta monitoring channels list --format='value(name)'` prints, or a google_monitoring_notification_channel's id)";

/**
 * Checks notification channel names. Returns what is wrong (naming the offending entry, the value
 * received and the form expected), or undefined when every entry is a full channel name or an
 * unresolved token. An empty list is valid.
 */
export function validateNotificationChannels(channels: unknown): string | undefined {
  if (Token.isUnresolved(channels)) return undefined;
  if (!Array.isArray(channels)) {
    return `notificationChannels must be a list of notification channel names ${CHANNEL_FORM}, got ${show(channels)}`;
  }
  const seen = new Set<string>();
  for (const [i, channel] of channels.entries()) {
    if (Token.isUnresolved(channel)) continue;
    if (typeof channel !== 'string') {
      return `notificationChannels[${i}] must be a string ${CHANNEL_FORM}, got ${show(channel)}`;
    }
    if (!CHANNEL_NAME.test(channel)) {
      const hint = /^[0-9]+$/.test(channel)
        ? ': this is a channel id alone; give its full name'
        : channel.includes('@')
          ? ': this is an address; create a notification channel for it and give the channel'
          : '';
      return `notificationChannels[${i}] must be a full notification channel name ${CHANNEL_FORM}, got ${show(channel)}${hint}`;
    }
    if (seen.has(channel)) return `notificationChannels lists ${show(channel)} twice`;
    seen.add(channel);
  }
  return undefined;
}
