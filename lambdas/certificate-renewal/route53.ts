/**
 * The Route 53 client and the commands this runbook sends, for `await import('./route53')` on the
 * one path that needs them (DNS-validated certificates in a configured hosted zone). Importing
 * this small module rather than `@aws-sdk/client-route-53` keeps the bundle tree-shaken: a dynamic
 * import of the package would keep every Route 53 command.
 */
export { ChangeResourceRecordSetsCommand, ListResourceRecordSetsCommand, Route53Client } from '@aws-sdk/client-route-53';
