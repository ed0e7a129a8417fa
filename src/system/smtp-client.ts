/** nodemailer's SMTP transport: the lab's sending of test mail opens its connections here. */
import nodemailer from 'nodemailer';
import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';

export const smtpPool = (o: SMTPPool.Options): nodemailer.Transporter<SMTPPool.SentMessageInfo> => nodemailer.createTransport(o);
